-- The filter predicate every page query repeats, as a macro (inlined where it is used, so
-- plans are as before). A filter left empty chooses everything:
--   picked($models::VARCHAR[], model)  =  no models chosen, or this one is
CREATE MACRO picked(chosen, value) AS len(chosen) = 0 OR list_contains(chosen, value);
