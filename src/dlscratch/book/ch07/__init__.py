"""The book's chapter-7 module `simple_convnet`."""
