mod catalog;
mod spec;
