"""The diff pipeline: two git revisions -> two object sets -> changes -> diff rules."""
