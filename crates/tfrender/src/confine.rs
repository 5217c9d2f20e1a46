//! [`crate::RenderOptions::within`]: every module a render loads (each call's `source`, each
//! [`crate::InstanceSource`]) must lie, with `..` and symbolic links resolved, under one
//! directory. A release renders only code it carries: a module call with `source =
//! "../../../x"` in a release's configuration would load code from outside it.
use crate::hash::HashMap;
use std::path::Path;
use std::sync::Arc;

use crate::error::{Diag, ErrorKind};
use crate::load::{CallCfg, ModuleCfg};

/// The first module call of `root` (or module of `overrides`) whose directory is not under `within`.
pub(crate) fn check(root: &ModuleCfg, overrides: &HashMap<(String, String), Arc<ModuleCfg>>, within: &Path) -> Result<(), Diag> {
    let top = within.canonicalize().map_err(|e| Diag::new(ErrorKind::Io, None, format!("cannot resolve {}: {e}", within.display())))?;
    calls(&root.calls, &top)?;
    for ((call, key), m) in overrides {
        inside(&m.dir, &top).map_err(|why| Diag::new(ErrorKind::Config, None, format!("module.{call}[{key:?}] renders from {why}")))?;
        calls(&m.calls, &top)?;
    }
    Ok(())
}

fn calls(list: &[CallCfg], top: &Path) -> Result<(), Diag> {
    for c in list {
        inside(&c.module.dir, top).map_err(|why| Diag { file: Some(c.file), ..Diag::new(ErrorKind::Config, c.span.clone(), format!("module {:?} (source {:?}) loads {why}", c.name, c.source)) })?;
        calls(&c.module.calls, top)?;
    }
    Ok(())
}

fn inside(dir: &Path, top: &Path) -> Result<(), String> {
    let real = dir.canonicalize().map_err(|e| format!("{}, which cannot be resolved: {e}", dir.display()))?;
    if real.starts_with(top) {
        Ok(())
    } else {
        Err(format!("{}, outside {}: only modules inside the configuration's tree are rendered", real.display(), top.display()))
    }
}
