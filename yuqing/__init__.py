"""yuqing — public-opinion (舆情) monitoring and response for a Justice Bureau."""

__version__ = "0.1.0"
