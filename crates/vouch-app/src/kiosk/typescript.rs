//! The kiosk UI's TypeScript types, generated from the Rust types of the commands (`COMMANDS`): every
//! argument and answer, everything they contain, and `KioskCommands`, which maps each command to them. The UI
//! imports them from `ui/src/generated/kiosk.ts`; a test fails when that file differs from what the Rust
//! types say, and `make ts` writes it anew.

use std::any::TypeId;
use std::collections::{BTreeMap, HashSet};

use ts_rs::{TypeVisitor, TS};

use super::Access;

/// Where the generated file lives, from the repository's root.
pub const UI_TYPES: &str = "ui/src/generated/kiosk.ts";

/// Declarations by name, each type once, with everything it depends on.
#[derive(Default)]
struct Declarations {
    by_name: BTreeMap<String, String>,
    /// Every type walked, so that recursive ones (JSON values) are walked once.
    seen: HashSet<TypeId>,
    /// Names two different types declared: the UI would see only one of them.
    collisions: Vec<String>,
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if !self.seen.insert(TypeId::of::<T>()) {
            return;
        }
        // Types with a declaration of their own; containers (Vec, Option, maps) and primitives have none.
        if T::output_path().is_some() {
            let decl = T::decl();
            if let Some(other) = self.by_name.insert(T::ident(), decl.clone()) {
                if other != decl {
                    self.collisions.push(T::ident());
                }
            }
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

fn access_name(access: Access) -> &'static str {
    match access {
        Access::Anyone => "anyone",
        Access::Clerk => "clerk",
        Access::Admin => "admin",
    }
}

fn declarations() -> Declarations {
    let mut declarations = Declarations::default();
    super::visit_command_types(&mut declarations);
    super::visit_step_detail_types(&mut declarations);
    declarations
}

/// The whole file: every declaration, then the command map.
pub fn kiosk_typescript() -> String {
    let declarations = declarations();
    let mut out = String::from(
        "// Generated from the kiosk commands' Rust types (crates/vouch-app/src/kiosk/typescript.rs) by \
         `make ts`.\n// Do not edit: a test fails when this file and the Rust types differ.\n\n",
    );
    // The kiosk's languages, as `vouch_core::flow::LANGUAGES` lists them (the types above name it `Lang`).
    let languages: Vec<String> = vouch_core::flow::LANGUAGES.iter().map(|l| format!("\"{l}\"")).collect();
    out.push_str(&format!("export type Lang = {};\n\n", languages.join(" | ")));
    for decl in declarations.by_name.values() {
        // serde_json writes 64-bit integers as JSON numbers, which ts-rs would type as bigint.
        out.push_str(&format!("export {}\n\n", decl.replace("bigint", "number")));
    }
    out.push_str("/** Every kiosk command: who may send it, its arguments and its answer. */\nexport interface KioskCommands {\n");
    for (name, access, args, result) in super::command_signatures() {
        out.push_str(&format!(
            "  {name}: {{ access: \"{}\"; args: {args}; result: {}; }};\n",
            access_name(access),
            result.replace("bigint", "number")
        ));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ui_types_are_generated_from_the_rust_ones() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(UI_TYPES);
        let fresh = kiosk_typescript();
        if std::env::var("VOUCH_WRITE_TS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &fresh).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(committed == fresh, "{UI_TYPES} is stale: run `make ts` and commit it");
    }

    #[test]
    fn every_command_is_in_the_map_with_its_types() {
        let ts = kiosk_typescript();
        for (name, ..) in super::super::COMMANDS {
            assert!(ts.contains(&format!("  {name}: {{ access: ")), "{name} is missing");
        }
        assert!(ts.contains("case_open: { access: \"anyone\"; args: OpenArgs; result: CaseSession; };"), "{ts}");
        assert!(ts.contains("export type CaseSession = "), "{ts}");
        assert!(!ts.contains("bigint"));
    }

    #[test]
    fn no_two_types_share_a_typescript_name() {
        assert_eq!(declarations().collisions, Vec::<String>::new());
    }
}
