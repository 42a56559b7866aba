"""Views: portal (public reading), workspace (my actions, progress), drafting (responses), history."""
