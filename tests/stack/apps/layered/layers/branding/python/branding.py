SIGNATURE = "-- Quotes Inc."
