"""Digital banking for customers: Type I/II/III accounts, their PBoC limits, overview and
statements, the notification centre, closing and self-service freezing."""
