"""One-off measurements behind statements in ``bench/NOTES.md`` (not part of ``make bench``)."""
