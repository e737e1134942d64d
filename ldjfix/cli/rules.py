"""rules suggest: a starting rules file from the defects a file has."""
