"""The book's chapter-4 module `two_layer_net` (sigmoid network, hand-written backward)."""
