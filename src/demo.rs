//! The development data of `init --with-demo-data`, as the old tool made it: tenant `t-dev` with one
//! site and three webcams. Each row is looked up by its natural key first (tenant id, site name in
//! the tenant, camera name in the site), so running it again adds only what is missing.

use diesel::prelude::*;
use serde::Serialize;

use crate::config::Settings;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::guard;
use crate::models::{CameraType, NewCamera, NewSite, NewTenant};
use crate::progress::Progress;
use crate::schema::{cameras, sites, tenants};

pub const TENANT_ID: &str = "t-dev";
pub const TENANT_NAME: &str = "Development Tenant";
pub const SITE_NAME: &str = "Development Site";
pub const SITE_LOCATION: &str = "Local Development Environment";
/// The webcams and their device indexes.
pub const CAMERAS: [(&str, i32); 3] = [
    ("USB Webcam", 0),
    ("Built-in Webcam", 1),
    ("External Webcam", 2),
];

/// What `--with-demo-data` found and added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoData {
    pub tenant: &'static str,
    pub site: &'static str,
    /// The site's id, as `user create --site` takes it.
    pub site_id: i64,
    /// Whether this run added anything (false: it was all there).
    pub created: bool,
    /// Rows this run added.
    pub added: Added,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Added {
    pub tenants: usize,
    pub sites: usize,
    pub cameras: usize,
}

impl Added {
    fn total(self) -> usize {
        self.tenants + self.sites + self.cameras
    }
}

impl DemoData {
    /// Says what was added, or that it was all there.
    pub fn report(&self, progress: &Progress) {
        let added = self.added;
        if self.created {
            progress.done(format!(
                "added demo data: tenant '{}', site {} '{}' ({}, {}, {} added)",
                self.tenant,
                self.site_id,
                self.site,
                crate::text::plural(added.tenants, "tenant"),
                crate::text::plural(added.sites, "site"),
                crate::text::plural(added.cameras, "camera")
            ));
        } else {
            progress.info(format!(
                "demo data already there: tenant '{}', site {} '{}' and its webcams",
                self.tenant, self.site_id, self.site
            ));
        }
    }
}

/// Refuses demo data where `ENV` or the database's `recorded` environment is protected (exit 4):
/// a development tenant has no place in production.
pub fn check_allowed(settings: &Settings, recorded: Option<&str>) -> Result<()> {
    match guard::protected_by(settings, recorded) {
        Some(reason) => Err(Error::Refused(format!(
            "refusing to add demo data to {}: {reason}, and demo data is for development databases; nothing was changed. Leave out --with-demo-data",
            settings.target.display()
        ))),
        None => Ok(()),
    }
}

/// Adds whatever of the demo data is missing. Runs inside the caller's locked transaction.
pub fn add_demo_data(db: &mut Db) -> Result<DemoData> {
    let mut added = Added::default();

    let tenant_exists = (diesel::select(diesel::dsl::exists(tenants::table.find(TENANT_ID)))
        .get_result::<bool>(db))?;
    if !tenant_exists {
        let tenant = NewTenant {
            tenant_id: TENANT_ID,
            name: TENANT_NAME,
            description: None,
            is_active: true,
        };
        (diesel::insert_into(tenants::table)
            .values(&tenant)
            .execute(db))?;
        added.tenants += 1;
    }

    let find_site = || {
        sites::table
            .filter(sites::tenant_id.eq(TENANT_ID))
            .filter(sites::name.eq(SITE_NAME))
            .select(sites::site_id)
            .order(sites::site_id)
    };
    let existing_site = (find_site().first::<i64>(db).optional())?;
    let site_id = match existing_site {
        Some(site_id) => site_id,
        None => {
            let site = NewSite {
                tenant_id: TENANT_ID,
                name: SITE_NAME,
                location: Some(SITE_LOCATION),
            };
            (diesel::insert_into(sites::table).values(&site).execute(db))?;
            added.sites += 1;
            (find_site().first::<i64>(db))?
        }
    };

    for (name, device_index) in CAMERAS {
        let camera_exists = (diesel::select(diesel::dsl::exists(
            cameras::table
                .filter(cameras::site_id.eq(site_id))
                .filter(cameras::name.eq(name)),
        ))
        .get_result::<bool>(db))?;
        if camera_exists {
            continue;
        }
        let camera = NewCamera {
            tenant_id: TENANT_ID,
            site_id,
            name,
            camera_type: CameraType::Webcam,
            rtsp_url: None,
            device_index: Some(device_index),
            is_active: true,
            caps: None,
        };
        (diesel::insert_into(cameras::table)
            .values(&camera)
            .execute(db))?;
        added.cameras += 1;
    }

    Ok(DemoData {
        tenant: TENANT_ID,
        site: SITE_NAME,
        site_id,
        created: added.total() > 0,
        added,
    })
}
