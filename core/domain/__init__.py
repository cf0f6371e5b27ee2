"""Pure domain: value objects, entities, policies and errors. No I/O, no frameworks."""
