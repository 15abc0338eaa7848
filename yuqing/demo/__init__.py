"""``yuqing demo``: the whole story on a simulated internet on 127.0.0.1.

``story`` is the script (our own fictional content), ``internet`` serves it as a news site, an
RSS feed, a Weibo-style JSON API, a forum and the bureau's own site, ``catcher`` receives the
notifications, and ``run`` drives the real daemon (``yuqing run --clock-file``) through a day
of simulated time while three people take a statement through the procedure.
"""
