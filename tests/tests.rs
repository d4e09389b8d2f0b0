//! The one integration-test binary (`autotests = false`): CLI tests, example acceptance
//! grids, and per-stage integration tests, one module per area.

mod action;
mod adopt;
mod adopt_walk;
mod argocd_plugin;
mod catalog;
mod check_reports;
mod cli;
mod common;
mod controllers;
mod delivery;
mod examples;
mod facts;
mod flux_gate;
mod fuzz;
mod gate;
mod gate_rules;
mod gateways;
mod git;
mod gitops;
mod handover;
mod init;
mod inventory;
mod planner;
mod policies;
mod realrepos;
mod render;
mod report_formats;
mod retire;
mod safety;
mod safety_input;
mod safety_secrets;
mod spec;
mod upgrade;
mod webhooks;
mod wiring;
