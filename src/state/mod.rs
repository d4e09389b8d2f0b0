//! `meshplan.lock`: what the last committed render deployed. Not written yet: until the
//! upgrade planner lands, every cluster is planned as a new one (no lock).
