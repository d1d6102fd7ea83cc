"""Pure domain logic: no I/O, no clocks read, no database, network or CLI imports."""
