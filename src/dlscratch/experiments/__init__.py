"""The course's experiments: `dlscratch experiment NAME` redraws each figure and number."""
