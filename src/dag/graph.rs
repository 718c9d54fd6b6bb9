//! Text renderings of a DAG's task graph for `leoflow dags graph`: an indented tree (as
//! `airflow tasks list --tree`) and Graphviz dot (task groups as clusters, edge labels kept).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::model::Dag;

/// Roots first, each task's downstream tasks indented under it.
pub fn tree(dag: &Dag) -> String {
    let down = dag.downstream();
    let mut out = String::new();
    fn walk(
        out: &mut String,
        id: &str,
        depth: usize,
        down: &BTreeMap<&str, Vec<&str>>,
        dag: &Dag,
        guard: usize,
    ) {
        let op = dag.task(id).map(|t| t.operator.as_str()).unwrap_or("?");
        let _ = writeln!(out, "{}<Task({op}): {id}>", "    ".repeat(depth));
        if guard > dag.tasks.len() {
            return;
        }
        for d in &down[id] {
            walk(out, d, depth + 1, down, dag, guard + 1);
        }
    }
    for t in dag.tasks.iter().filter(|t| t.upstream.is_empty()) {
        walk(&mut out, &t.task_id, 0, &down, dag, 0);
    }
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Graphviz dot, left to right.
pub fn dot(dag: &Dag) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=box, style=rounded];\n",
        quote(&dag.dag_id)
    );
    let mut by_group: BTreeMap<Option<&str>, Vec<&str>> = BTreeMap::new();
    for t in &dag.tasks {
        by_group
            .entry(t.task_group.as_deref())
            .or_default()
            .push(&t.task_id);
    }
    for (group, ids) in &by_group {
        let indent = if group.is_some() { "    " } else { "  " };
        if let Some(g) = group {
            let _ = writeln!(
                out,
                "  subgraph {} {{\n    label={};",
                quote(&format!("cluster_{g}")),
                quote(g)
            );
        }
        for id in ids {
            let _ = writeln!(out, "{indent}{};", quote(id));
        }
        if group.is_some() {
            out.push_str("  }\n");
        }
    }
    for t in &dag.tasks {
        for u in &t.upstream {
            match t.edge_labels.get(u) {
                Some(l) => {
                    let _ = writeln!(
                        out,
                        "  {} -> {} [label={}];",
                        quote(u),
                        quote(&t.task_id),
                        quote(l)
                    );
                }
                None => {
                    let _ = writeln!(out, "  {} -> {};", quote(u), quote(&t.task_id));
                }
            }
        }
    }
    out.push_str("}\n");
    out
}
