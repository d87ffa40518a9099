"""dqflow: drives preschool quality monitoring campaigns through their dated stages."""

__version__ = "0.1.0"
