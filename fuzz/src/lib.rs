//! GLEH's parsers for the fuzz targets (fuzz/fuzz_targets/), included from ../src as
//! they are, under the same module paths as in the crate (so their `crate::` and `super::`
//! paths resolve here too). Each included file uses nothing of the crate but what is
//! included beside it; fuzz/README.md lists them.

#[path = "../../src/auth"]
pub mod auth {
    pub mod csrf;
    pub mod password {
        pub mod werkzeug;
    }
    pub mod session {
        pub mod cookie;
    }
}

#[path = "../../src/catalog"]
pub mod catalog {
    pub mod urls;
    pub use urls::is_safe_relative;
    pub mod import {
        pub mod data_json;
    }
}

#[path = "../../src/avatar"]
pub mod avatar {
    pub mod image;
    pub mod limits;
    pub mod multipart;
}

#[path = "../../src/ebooks"]
pub mod ebooks {
    pub mod opds;
    pub mod search {
        pub mod description;
    }
}

#[path = "../../src/routes"]
pub mod routes {
    pub mod courses {
        pub mod range;
    }
}

pub mod harness;
