use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("repository root")
}

/// A generated source in the package's format, written for this test: a resource with a
/// required string, a computed-only string, a set of strings, a map, a one-item block, a list
/// block with a required nested block, a set attribute of objects and timeouts.
const WIDGET_TS: &str = r#"import * as cdktf from 'cdktf';
export interface WidgetConfig extends cdktf.TerraformMetaArguments {
}
export function widgetRuleLimitToTerraform(struct?: WidgetRuleLimit): any {
  return {
    max: cdktf.numberToTerraform(struct!.max),
  }
}
export class WidgetRuleLimitOutputReference extends cdktf.ComplexObject {
  // max - computed: false, optional: false, required: true
  private _max?: number; 
  public get max() {
    return this.getNumberAttribute('max');
  }
}
export class WidgetRuleLimitList extends cdktf.ComplexList {
}
export function widgetRuleToTerraform(struct?: WidgetRule): any {
  return {
    id: cdktf.stringToTerraform(struct!.id),
    limit: cdktf.listMapper(widgetRuleLimitToTerraform, true)(struct!.limit),
  }
}
export class WidgetRuleOutputReference extends cdktf.ComplexObject {
  // id - computed: false, optional: true, required: false
  private _id?: string; 
  public get id() {
    return this.getStringAttribute('id');
  }
  // enabled - computed: true, optional: true, required: false
  private _enabled?: boolean | cdktf.IResolvable; 
  public get enabled() {
    return this.getBooleanAttribute('enabled');
  }
  // limit - computed: false, optional: false, required: true
  private _limit = new WidgetRuleLimitList(this, "limit", false);
  public get limit() {
    return this._limit;
  }
}
export class WidgetRuleList extends cdktf.ComplexList {
}
export class WidgetPortOutputReference extends cdktf.ComplexObject {
  // from - computed: true, optional: true, required: false
  private _from?: number; 
  public get from() {
    return this.getNumberAttribute('from');
  }
}
export class WidgetPortList extends cdktf.ComplexList {
}
export class WidgetLoggingOutputReference extends cdktf.ComplexObject {
  // bucket - computed: false, optional: false, required: true
  private _bucket?: string; 
  public get bucket() {
    return this.getStringAttribute('bucket');
  }
}
export class WidgetTimeoutsOutputReference extends cdktf.ComplexObject {
  // create - computed: false, optional: true, required: false
  private _create?: string; 
  public get create() {
    return this.getStringAttribute('create');
  }
}
export class Widget extends cdktf.TerraformResource {
  public static readonly tfResourceType = "aws_widget";
  // arn - computed: true, optional: false, required: false
  public get arn() {
    return this.getStringAttribute('arn');
  }
  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  // zones - computed: false, optional: true, required: false
  private _zones?: string[]; 
  public get zones() {
    return cdktf.Fn.tolist(this.getListAttribute('zones'));
  }
  // tags - computed: false, optional: true, required: false
  private _tags?: { [key: string]: string }; 
  public get tags() {
    return this.getStringMapAttribute('tags');
  }
  // port - computed: true, optional: true, required: false
  private _port = new WidgetPortList(this, "port", true);
  public get port() {
    return this._port;
  }
  // logging - computed: false, optional: true, required: false
  private _logging = new WidgetLoggingOutputReference(this, "logging");
  public get logging() {
    return this._logging;
  }
  // rule - computed: false, optional: true, required: false
  private _rule = new WidgetRuleList(this, "rule", false);
  public get rule() {
    return this._rule;
  }
  // timeouts - computed: false, optional: true, required: false
  private _timeouts = new WidgetTimeoutsOutputReference(this, "timeouts");
  public get timeouts() {
    return this._timeouts;
  }
  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      name: cdktf.stringToTerraform(this._name),
      port: cdktf.listMapper(widgetPortToTerraform, false)(this._port.internalValue),
      rule: cdktf.listMapper(widgetRuleToTerraform, true)(this._rule.internalValue),
    };
  }
}
"#;

#[test]
fn reads_a_generated_resource_source() {
    let (ty, block) = npm::resource_block(WIDGET_TS).expect("parses");
    assert_eq!(ty, "aws_widget");
    let want = json!({
        "attributes": {
            "arn": { "type": "string", "computed": true },
            "name": { "type": "string", "required": true },
            "port": { "type": ["set", ["object", { "from": "number" }]], "optional": true, "computed": true },
            "tags": { "type": ["map", "string"], "optional": true },
            "zones": { "type": ["set", "string"], "optional": true },
        },
        "block_types": {
            "logging": { "nesting_mode": "list", "max_items": 1, "block": { "attributes": { "bucket": { "type": "string", "required": true } } } },
            "rule": { "nesting_mode": "list", "block": {
                "attributes": {
                    "enabled": { "type": "bool", "optional": true, "computed": true },
                    "id": { "type": "string", "optional": true },
                },
                "block_types": { "limit": { "nesting_mode": "list", "min_items": 1, "block": { "attributes": { "max": { "type": "number", "required": true } } } } },
            } },
            "timeouts": { "nesting_mode": "single", "block": { "attributes": { "create": { "type": "string", "optional": true } } } },
        },
    });
    assert_eq!(block, want, "{}", serde_json::to_string_pretty(&block).unwrap_or_default());
}

#[test]
fn unrecognised_declarations_are_errors_naming_the_attribute() {
    let ts = WIDGET_TS.replace("return this.getStringAttribute('name');", "return this.getMysteryAttribute('name');");
    let e = npm::resource_block(&ts).expect_err("unknown getter").to_string();
    assert!(e.contains("aws_widget") && e.contains("\"name\""), "{e}");
}

#[test]
fn terraform_output_is_normalized_to_the_vendored_subset() {
    let tf = json!({
        "attributes": {
            "id": { "type": "string", "optional": true, "computed": true, "description_kind": "plain" },
            "secret": { "type": "string", "optional": true, "sensitive": true, "description": "x", "description_kind": "markdown" },
            "rules": { "nested_type": { "attributes": { "a": { "type": "string", "optional": true } }, "nesting_mode": "list" }, "optional": true },
        },
        "block_types": { "timeouts": { "nesting_mode": "single", "block": { "attributes": { "create": { "type": "string", "optional": true } }, "description_kind": "plain" } } },
        "description_kind": "plain",
    });
    let want = json!({
        "attributes": {
            "id": { "type": "string", "optional": true, "computed": true },
            "secret": { "type": "string", "optional": true, "sensitive": true },
            "rules": { "type": ["list", ["object", { "a": "string" }]], "optional": true },
        },
        "block_types": { "timeouts": { "nesting_mode": "single", "block": { "attributes": { "create": { "type": "string", "optional": true } } } } },
    });
    assert_eq!(normalize_block(&tf), want);
}

#[test]
fn drift_names_each_differing_path() {
    let a = json!({ "provider_schemas": { PROVIDER: { "resource_schemas": { "aws_x": { "block": { "attributes": { "a": { "type": "string", "optional": true } } } } } } } });
    let mut b = a.clone();
    b["provider_schemas"][PROVIDER]["resource_schemas"]["aws_x"]["block"]["attributes"]["a"]["sensitive"] = json!(true);
    assert!(drift(&a, &a, 10).is_empty());
    assert_eq!(drift(&a, &b, 10), vec!["aws_x.block.attributes.a.sensitive: missing from the vendored file, provider true".to_string()]);
}

#[test]
fn the_vendored_schema_covers_every_type_the_repository_uses() {
    let root = repo();
    let used = used_types(&root).expect("scan");
    assert!(used.len() >= 20, "{used:?}");
    let missing = missing_types(&root).expect("vendored file");
    assert!(missing.is_empty(), "{missing:?}");
    let doc = load(&root).expect("load");
    assert_eq!(doc["provenance"]["provider_version"], "6.25.0");
}

#[test]
fn a_type_the_vendored_schema_lacks_is_found_with_its_place() {
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    std::fs::create_dir_all(root.join("modules/m")).expect("mkdir");
    std::fs::create_dir_all(root.join("schema")).expect("mkdir");
    std::fs::write(root.join("modules/m/main.tf"), "locals {}\n\nresource \"aws_kms_key\" \"a\" {}\nresource \"aws_sqs_queue\" \"q\" {}\n").expect("write");
    let doc = json!({ "provider_schemas": { PROVIDER: { "resource_schemas": { "aws_kms_key": { "block": {} } } } } });
    std::fs::write(root.join(VENDORED), render(&doc).expect("render")).expect("write");
    let m = missing_types(root).expect("check");
    assert_eq!(m, vec![Use { ty: "aws_sqs_queue".into(), file: PathBuf::from("modules/m/main.tf"), line: 4 }]);
}

#[test]
fn every_sensitive_row_cites_a_page_and_names_a_real_attribute_shape() {
    let rows = sensitive_table(&repo()).expect("table");
    for r in rows {
        assert!(r.ty.starts_with("aws_") && !r.attribute.is_empty(), "{r:?}");
        assert!(r.doc.contains("registry.terraform.io/providers/hashicorp/aws/"), "{r:?}");
    }
}
