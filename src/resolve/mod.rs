//! The worklist resolver: direct requirements plus the `Requires-Dist` of every wheel as it becomes
//! known, markers evaluated for the target, extras honoured, pins and `-c` constraints honoured. It
//! never backtracks: a version that a later requirement excludes is reported with both sources.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::str::FromStr;

use pep508_rs::pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};

use crate::requirements::{Entry, Origin, Source};

pub mod index;

/// Two requirements that no single version satisfies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{name}` {version} was chosen for {chosen_for}, but {origin} requires `{name}{specifiers}`"
)]
pub struct Conflict {
    pub name: PackageName,
    pub version: Version,
    /// Where the requirement that picked `version` came from.
    pub chosen_for: String,
    pub origin: Origin,
    pub specifiers: VersionSpecifiers,
}

/// A `Requires-Dist` line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{package}` declares an invalid dependency `{text}`: {message}")]
pub struct BadDependency {
    pub package: String,
    pub text: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Conflict(#[from] Conflict),
    #[error(transparent)]
    BadDependency(#[from] BadDependency),
}

/// One specifier set on a package and the requirement it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    pub specifiers: VersionSpecifiers,
    pub origin: Origin,
}

/// A package the resolver knows about, by name.
#[derive(Debug, Clone, Default)]
pub struct Package {
    /// Every specifier set that applies (requirements and constraints).
    pub demands: Vec<Demand>,
    /// Extras requested by any requirement.
    pub extras: BTreeSet<ExtraName>,
    /// The version chosen, once the distribution is fetched.
    pub pinned: Option<Version>,
    /// `Requires-Dist` of the chosen version, once its wheel exists.
    pub requires_dist: Option<Vec<Requirement>>,
    /// Whether the base dependencies were already added.
    base_done: bool,
    /// Extras whose dependencies were already added.
    extras_done: BTreeSet<ExtraName>,
    /// The first requirement that asked for the package (shown in reports and conflicts).
    pub first_origin: Option<Origin>,
    /// Hashes from `--hash`: the downloaded file must match one of them.
    pub hashes: Vec<String>,
}

/// Work the caller has to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Job {
    /// Choose a version of a named package in the indexes and fetch it.
    Fetch(PackageName),
    /// Fetch or build a direct URL / local path requirement.
    Direct(Box<Entry>),
}

/// The resolver's state; see the module docs.
pub struct Resolver {
    env: MarkerEnvironment,
    packages: HashMap<PackageName, Package>,
    order: Vec<PackageName>,
    constraints: Vec<(Requirement, Origin)>,
    queue: VecDeque<Job>,
    /// Names a local path or URL requirement provides: never looked up in the indexes.
    provided: std::collections::HashSet<PackageName>,
    /// Requirements whose markers exclude the target: (text, origin).
    pub skipped: Vec<(String, Origin)>,
}

impl Resolver {
    /// `constraints` are `-c` entries: only their named version specifiers count.
    pub fn new(env: MarkerEnvironment, constraints: &[Entry]) -> Resolver {
        let constraints = constraints
            .iter()
            .filter(|e| e.applies(&env))
            .filter_map(|e| match &e.source {
                Source::Registry(r) => Some((r.clone(), e.origin.clone())),
                _ => None,
            })
            .collect();
        Resolver {
            env,
            packages: HashMap::new(),
            order: Vec::new(),
            constraints,
            queue: VecDeque::new(),
            provided: Default::default(),
            skipped: Vec::new(),
        }
    }

    /// The target's marker environment.
    pub fn env(&self) -> &MarkerEnvironment {
        &self.env
    }

    /// Add a top-level requirement.
    pub fn add_entry(&mut self, entry: &Entry) -> Result<(), Conflict> {
        if !entry.applies(&self.env) {
            self.skipped.push((entry.to_string(), entry.origin.clone()));
            return Ok(());
        }
        match &entry.source {
            Source::Registry(req) => self.add_requirement(req, entry.origin.clone(), &entry.hashes),
            _ => {
                self.queue.push_back(Job::Direct(Box::new(entry.clone())));
                Ok(())
            }
        }
    }

    fn add_requirement(
        &mut self,
        req: &Requirement,
        origin: Origin,
        hashes: &[String],
    ) -> Result<(), Conflict> {
        let is_new = !self.packages.contains_key(&req.name);
        if is_new {
            self.order.push(req.name.clone());
            let mut package = Package {
                first_origin: Some(origin.clone()),
                ..Package::default()
            };
            for (c, c_origin) in &self.constraints {
                if c.name == req.name
                    && let Some(VersionOrUrl::VersionSpecifier(s)) = &c.version_or_url
                {
                    package.demands.push(Demand {
                        specifiers: s.clone(),
                        origin: c_origin.clone(),
                    });
                }
            }
            self.packages.insert(req.name.clone(), package);
            if !self.provided.contains(&req.name) {
                self.queue.push_back(Job::Fetch(req.name.clone()));
            }
        }
        let package = self.packages.get_mut(&req.name).expect("inserted above");
        package.hashes.extend(hashes.iter().cloned());
        if let Some(VersionOrUrl::VersionSpecifier(specifiers)) = &req.version_or_url
            && !specifiers.is_empty()
        {
            if let Some(version) = &package.pinned
                && !specifiers.contains(version)
            {
                return Err(Conflict {
                    name: req.name.clone(),
                    version: version.clone(),
                    chosen_for: chosen_for(package),
                    origin,
                    specifiers: specifiers.clone(),
                });
            }
            package.demands.push(Demand {
                specifiers: specifiers.clone(),
                origin,
            });
        }
        package.extras.extend(req.extras.iter().cloned());
        if package.requires_dist.is_some() {
            self.expand(&req.name)?;
        }
        Ok(())
    }

    /// The next thing to fetch, if any.
    pub fn next_job(&mut self) -> Option<Job> {
        self.queue.pop_front()
    }

    pub fn package(&self, name: &PackageName) -> Option<&Package> {
        self.packages.get(name)
    }

    /// Packages in the order they were first required.
    pub fn packages(&self) -> impl Iterator<Item = (&PackageName, &Package)> {
        self.order.iter().map(|n| (n, &self.packages[n]))
    }

    /// Record the version chosen for a package (also for a direct URL or path once its name is
    /// known); every demand so far must allow it.
    pub fn pin(
        &mut self,
        name: &PackageName,
        version: Version,
        origin: Origin,
    ) -> Result<(), Conflict> {
        if !self.packages.contains_key(name) {
            self.order.push(name.clone());
            self.packages.insert(
                name.clone(),
                Package {
                    first_origin: Some(origin.clone()),
                    ..Package::default()
                },
            );
        }
        let package = self.packages.get_mut(name).expect("inserted above");
        if let Some(d) = package
            .demands
            .iter()
            .find(|d| !d.specifiers.contains(&version))
        {
            return Err(Conflict {
                name: name.clone(),
                version,
                chosen_for: origin.to_string(),
                origin: d.origin.clone(),
                specifiers: d.specifiers.clone(),
            });
        }
        package.pinned = Some(version);
        Ok(())
    }

    /// Declare that a local path or URL requirement provides `name` (known before its build from
    /// the file name or `pyproject.toml`): requirements on it are not looked up in the indexes.
    pub fn provide(&mut self, name: &PackageName) {
        self.provided.insert(name.clone());
    }

    /// True when a local path or URL requirement provides `name`.
    pub fn is_provided(&self, name: &PackageName) -> bool {
        self.provided.contains(name)
    }

    /// Pin a package that came from a local path or URL once its name is known, with the extras
    /// its requirement asked for.
    pub fn pin_direct(
        &mut self,
        name: &PackageName,
        version: Version,
        extras: &[ExtraName],
        origin: Origin,
    ) -> Result<(), Conflict> {
        self.pin(name, version, origin)?;
        let package = self.packages.get_mut(name).expect("pinned above");
        package.extras.extend(extras.iter().cloned());
        Ok(())
    }

    /// Record a built or downloaded wheel's `Requires-Dist` and add the dependencies that apply to
    /// the target with the extras requested so far.
    pub fn add_metadata(
        &mut self,
        name: &PackageName,
        requires_dist: &[String],
    ) -> Result<(), ResolveError> {
        let package = self
            .packages
            .get_mut(name)
            .expect("metadata only for known packages");
        let label = match &package.pinned {
            Some(v) => format!("{name}=={v}"),
            None => name.to_string(),
        };
        let mut parsed = Vec::new();
        for text in requires_dist {
            let req = Requirement::from_str(text).map_err(|e| BadDependency {
                package: label.clone(),
                text: text.clone(),
                message: e.to_string().lines().next().unwrap_or_default().to_string(),
            })?;
            parsed.push(req);
        }
        package.requires_dist = Some(parsed);
        package.base_done = false;
        package.extras_done.clear();
        self.expand(name)?;
        Ok(())
    }

    /// Add the dependencies of `name` that apply to the target: its base requirements once, and
    /// those of each requested extra not expanded yet.
    fn expand(&mut self, name: &PackageName) -> Result<(), Conflict> {
        let package = &self.packages[name];
        let Some(requires) = package.requires_dist.clone() else {
            return Ok(());
        };
        let base = !package.base_done;
        let new_extras: Vec<ExtraName> = package
            .extras
            .difference(&package.extras_done)
            .cloned()
            .collect();
        if !base && new_extras.is_empty() {
            return Ok(());
        }
        let origin = Origin::Package(match &package.pinned {
            Some(v) => format!("{name}=={v}"),
            None => name.to_string(),
        });
        let mut wanted = Vec::new();
        for req in &requires {
            let in_base = req.marker.evaluate(&self.env, &[]);
            let in_new_extra = new_extras
                .iter()
                .any(|e| req.marker.evaluate(&self.env, std::slice::from_ref(e)));
            if (base && in_base) || (!in_base && in_new_extra) {
                wanted.push(req.clone());
            } else if base
                && !in_base
                && req
                    .marker
                    .try_to_string()
                    .is_some_and(|m| !m.contains("extra"))
            {
                self.skipped.push((req.to_string(), origin.clone()));
            }
        }
        let package = self.packages.get_mut(name).expect("known");
        package.base_done = true;
        package.extras_done.extend(new_extras);
        for req in wanted {
            self.add_requirement(&req, origin.clone(), &[])?;
        }
        Ok(())
    }
}

fn chosen_for(package: &Package) -> String {
    package
        .first_origin
        .as_ref()
        .map_or_else(|| "an earlier requirement".to_string(), ToString::to_string)
}

impl fmt::Display for Job {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Job::Fetch(name) => write!(f, "{name}"),
            Job::Direct(entry) => write!(f, "{entry}"),
        }
    }
}

#[cfg(test)]
mod tests;
