"""Reading and checking spec files."""
