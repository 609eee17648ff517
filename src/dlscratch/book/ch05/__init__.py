"""The book's chapter-5 modules: `two_layer_net` (the layered network) and `layer_naive`."""
