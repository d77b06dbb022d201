"""Channel: server-rendered web portals (customer /, staff /console/, partner /partners/)."""
