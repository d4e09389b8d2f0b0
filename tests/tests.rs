//! The one integration-test binary (`autotests = false`): CLI tests, example acceptance
//! grids, and per-stage integration tests, one module per area.

mod argocd_plugin;
mod catalog;
mod cli;
mod common;
mod examples;
mod facts;
mod flux_gate;
mod gate;
mod gateways;
mod git;
mod gitops;
mod inventory;
mod planner;
mod policies;
mod render;
mod report_formats;
mod spec;
mod upgrade;
mod webhooks;
