//! Which errors Terraform's validate walk finds. `terraform plan` validates the configuration
//! first, with root module variables, `each`, `count` and resources unknown, and plans only
//! when that succeeds. So when an error does not depend on any of these (a literal argument
//! failing a child's validation, `tonumber("x")`), Terraform reports only such errors; the
//! ones that need a root variable's value (its own validation rules among them) are never
//! found. When every error depends on them, the plan walk finds them all.
//!
//! The engine evaluates once, in plan mode, and tracks the dependency instead: a read of a
//! root variable, `each`, `count`, a resource or a whole module value "touches" every node on
//! the evaluation stack; a node that was touched is remembered, and reading its cached value
//! touches the reader in turn. An error is plan-time when its top-level evaluation was touched.
use std::cell::{Cell, RefCell};
use crate::hash::HashSet;

#[derive(Default)]
pub(crate) struct PlanTime {
    /// Nodes (engine ids such as `module.a.local.x`) whose value needed a plan-time value.
    tainted: RefCell<HashSet<String>>,
    /// One flag per node being evaluated (parallel to the engine's stack).
    frames: RefCell<Vec<bool>>,
    /// Set by any touch since the last [`PlanTime::reset`].
    touched: Cell<bool>,
}

impl PlanTime {
    pub fn enter(&self) {
        self.frames.borrow_mut().push(false);
    }

    pub fn leave(&self, id: String) {
        if self.frames.borrow_mut().pop() == Some(true) {
            self.tainted.borrow_mut().insert(id);
        }
    }

    /// A plan-time value was read: everything being evaluated depends on it.
    pub fn touch(&self) {
        self.touched.set(true);
        for f in self.frames.borrow_mut().iter_mut() {
            *f = true;
        }
    }

    /// A node's cached value was read: a plan-time node taints its reader.
    pub fn read(&self, id: impl FnOnce() -> String) {
        if !self.tainted.borrow().is_empty() && self.tainted.borrow().contains(&id()) {
            self.touch();
        }
    }

    /// Starts a top-level evaluation.
    pub fn reset(&self) {
        self.touched.set(false);
    }

    /// Whether the evaluation since the last reset read a plan-time value.
    pub fn touched(&self) -> bool {
        self.touched.get()
    }
}
