from yuqing.cli import main

main()
