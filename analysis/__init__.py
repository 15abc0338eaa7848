"""Analysis: Chinese text normalisation, keyword schemes, classifiers and incidents."""
