//! What `leoflow deploy` needs beyond compiling a DAG: building its image and pushing it.

pub mod layer;
pub mod oci;
