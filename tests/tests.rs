
mod policies;
