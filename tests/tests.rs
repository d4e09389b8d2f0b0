//! The one integration-test binary (`autotests = false`): each area adds a module here.

mod facts;
mod webhooks;
