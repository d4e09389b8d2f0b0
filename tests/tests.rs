//! The one integration-test binary (`autotests = false`): CLI tests, example acceptance
//! grids, and per-stage integration tests, one module per area.

mod catalog;
mod cli;
mod common;
mod examples;
mod facts;
mod fuzz;
mod gateways;
mod git;
mod gitops;
mod inventory;
mod planner;
mod policies;
mod render;
mod report_formats;
mod safety;
mod safety_input;
mod safety_secrets;
mod spec;
mod upgrade;
mod webhooks;
