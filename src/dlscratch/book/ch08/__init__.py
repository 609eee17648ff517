"""The book's chapter-8 module `deep_convnet`."""
