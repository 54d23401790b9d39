"""Alert rules as data, evaluated on the analytics store into alert records (and notifications)."""
