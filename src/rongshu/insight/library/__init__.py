"""The shipped definitions, as data: indicators, segments, lifecycle stages and circles."""
