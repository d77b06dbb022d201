"""快贷 and 善融e贷: instant internet loans."""
