//! PostgreSQL targets: URLs and `DB_*` parts as libpq reads them.

use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::Url;

use super::{Environment, DEFAULT_CONNECT_TIMEOUT};
use crate::error::{Error, Result};

/// A PostgreSQL database: the URL to connect with and its parts for messages.
#[derive(Clone)]
pub struct PgTarget {
    /// With the first server as its host; `url_for` names the others to libpq.
    url: Url,
    /// The servers libpq tries in order (a URL's `h1:5432,h2:5432`, `DB_HOST=h1,h2`), at least one.
    servers: Vec<Server>,
    pub dbname: String,
    pub user: String,
    password: Option<String>,
}

/// One server of a PostgreSQL target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// A host name, an address, or a socket folder (starting with `/`).
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The servers of a host list and a port list as libpq pairs them: one port for every host, or
/// one each. No entry may be empty.
/// `hosts_from` and `ports_from` name where the lists come from, for errors.
fn pair_servers(
    hosts: &str,
    ports: Option<&str>,
    hosts_from: &str,
    ports_from: &str,
) -> Result<Vec<Server>> {
    let hosts: Vec<&str> = hosts.split(',').map(str::trim).collect();
    if hosts.iter().any(|host| host.is_empty()) {
        return Err(Error::Usage(format!(
            "{hosts_from} has an empty host name; list hosts as h1,h2 and ports as 5432,5433"
        )));
    }
    let ports: Vec<u16> = match ports {
        None => vec![5432],
        Some(ports) => ports
            .split(',')
            .map(|port| parse_port(port, ports_from))
            .collect::<Result<_>>()?,
    };
    if ports.len() != 1 && ports.len() != hosts.len() {
        return Err(Error::Usage(format!(
            "{hosts_from} lists {} hosts and {ports_from} {} ports: give one port for all hosts, or one per host",
            hosts.len(),
            ports.len()
        )));
    }
    Ok(hosts
        .iter()
        .enumerate()
        .map(|(n, host)| Server {
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
            port: ports[if ports.len() == 1 { 0 } else { n }],
        })
        .collect())
}

/// A URL's `h1:5432,[::1]:5433,h3` as servers, each entry's port or 5432.
fn url_servers(list: &str, source: &str) -> Result<Vec<Server>> {
    list.split(',')
        .map(|entry| {
            let (host, port) = match entry.rsplit_once(':') {
                // `[::1]` alone has colons but no port.
                Some((host, port)) if !port.contains(']') => (host, Some(port)),
                _ => (entry, None),
            };
            let mut servers = pair_servers(host, port, source, &format!("the port in {source}"))?;
            Ok(servers.remove(0))
        })
        .collect()
}

// Hand-written so that a `{:?}` can never print the password.
impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("servers", &self.servers)
            .field("dbname", &self.dbname)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl PgTarget {
    /// Builds the target from DB_HOST, DB_PORT, DB_USER, DB_PASSWORD and DB_NAME. User, password
    /// and name are percent-encoded, so any character works.
    pub fn from_parts(env: &Environment) -> Result<PgTarget> {
        let hosts = env.get("DB_HOST").unwrap_or_else(|| "localhost".to_owned());
        let ports = env.get("DB_PORT");
        let servers = pair_servers(&hosts, ports.as_deref(), "DB_HOST", "DB_PORT")?;
        let Server { host, port } = servers[0].clone();
        let user = env.get("DB_USER").unwrap_or_else(|| "postgres".to_owned());
        let password = env
            .get("DB_PASSWORD")
            .unwrap_or_else(|| "postgres".to_owned());
        let dbname = env.get("DB_NAME").unwrap_or_else(|| "facedb".to_owned());
        check_name_length(&dbname, "DB_NAME")?;
        let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        // A host starting with '/' is a socket directory: libpq takes it, and then the
        // credentials, as query parameters (a URL with credentials needs a host).
        let url = if host.starts_with('/') {
            format!(
                "postgresql:///{}?host={}&port={port}&user={}&password={}",
                encode(&dbname),
                encode(&host),
                encode(&user),
                encode(&password)
            )
        } else {
            let host = if host.contains(':') && !host.starts_with('[') {
                format!("[{host}]")
            } else {
                host.clone()
            };
            format!(
                "postgresql://{}:{}@{host}:{port}/{}",
                encode(&user),
                encode(&password),
                encode(&dbname)
            )
        };
        let url = Url::parse(&url).map_err(|e| {
            Error::Usage(format!(
                "DB_HOST '{host}' is not a valid host name ({e}); set DB_HOST or DATABASE_URL"
            ))
        })?;
        Ok(PgTarget {
            url,
            servers,
            dbname,
            user,
            password: Some(password),
        })
    }

    pub(super) fn from_url(raw: &str, source: &str) -> Result<PgTarget> {
        let invalid = |why: String| {
            Error::Usage(format!(
                "{source} is not a valid PostgreSQL URL ({why}); expected postgres://user:password@host:5432/dbname"
            ))
        };
        // Drop a SQLAlchemy driver suffix so that libpq reads the URL.
        let rest = raw
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        check_percent_encoding(rest, source)?;
        // `url` takes one host: it parses the URL with the first server, libpq gets them all.
        let (rest, listed) = split_server_list(rest);
        let listed = listed.map(|list| url_servers(&list, source)).transpose()?;
        let mut url = Url::parse(&format!(
            "postgresql://{}",
            move_credentials_of_hostless_url(&rest)
        ))
        .map_err(|e| invalid(e.to_string()))?;
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let query = libpq_query(&url);
        check_query_parameters(&url, &query, source)?;
        let query_value = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());

        // Query parameters win over the URL's own host and port, as in libpq.
        let servers = match (query_value("host"), listed) {
            (Some(hosts), _) => pair_servers(
                &hosts,
                query_value("port").as_deref(),
                &format!("the host parameter of {source}"),
                &format!("the port in {source}"),
            )?,
            (None, Some(listed)) => listed,
            (None, None) => {
                let host = match url.host_str() {
                    Some(h) if !h.is_empty() => {
                        decode(h.trim_start_matches('[').trim_end_matches(']'))
                    }
                    _ => "localhost".to_owned(),
                };
                let port = match (query_value("port"), url.port()) {
                    (Some(port), _) => parse_port(&port, &format!("the port in {source}"))?,
                    (None, Some(port)) => port,
                    (None, None) => 5432,
                };
                vec![Server { host, port }]
            }
        };
        if servers.iter().any(|s| s.port == 0) {
            return Err(invalid("port 0".to_owned()));
        }
        let user = match url.username() {
            "" => query_value("user").unwrap_or_else(|| "postgres".to_owned()),
            u => decode(u),
        };
        let password = url
            .password()
            .map(decode)
            .or_else(|| query_value("password"));
        let dbname = match decode(url.path().trim_start_matches('/')) {
            name if name.is_empty() => query_value("dbname").unwrap_or_else(|| user.clone()),
            name => name,
        };
        check_name_length(&dbname, &format!("the database name in {source}"))?;
        // The database is named once, in the path: libpq must not fall back to PGDATABASE or read
        // `?dbname=` in another place than facedb does.
        url.set_path(&format!(
            "/{}",
            utf8_percent_encode(&dbname, NON_ALPHANUMERIC)
        ));
        let mut rewritten: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "dbname")
            .map(|(k, v)| match (k.as_str(), v.as_str()) {
                // asyncpg spells libpq's sslmode as `ssl`.
                ("ssl", "true") => ("sslmode".to_owned(), "require".to_owned()),
                ("ssl", _) => ("sslmode".to_owned(), v.clone()),
                _ => (k.clone(), v.clone()),
            })
            .collect();
        // The user facedb names is the one it logs in as, not PGUSER's or the system user's.
        if url.username().is_empty() && query_value("user").is_none() {
            rewritten.push(("user".to_owned(), user.clone()));
        }
        if rewritten.is_empty() {
            url.set_query(None);
        } else {
            set_libpq_query(&mut url, &rewritten);
        }
        Ok(PgTarget {
            url,
            servers,
            dbname,
            user,
            password,
        })
    }

    /// `host:port/dbname`; with several servers `h1:5432,h2:5432/dbname`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.servers(), self.dbname)
    }

    /// The servers as a list: `h1:5432,h2:5432`.
    pub fn servers(&self) -> String {
        let servers: Vec<String> = self.servers.iter().map(Server::to_string).collect();
        servers.join(",")
    }

    /// The servers, in the order libpq tries them.
    pub fn server_list(&self) -> &[Server] {
        &self.servers
    }

    /// The same target on `server` alone: facedb tries a list's servers one by one where libpq
    /// stops at the first that answers with an error.
    pub fn on_server(&self, server: &Server) -> PgTarget {
        let mut target = self.clone();
        target.servers = vec![server.clone()];
        // libpq's query parameters override the URL's own host.
        let mut pairs: Vec<(String, String)> = libpq_query(&self.url)
            .into_iter()
            // facedb checks what it reached itself, and names each server's answer.
            .filter(|(k, _)| k != "host" && k != "port" && k != "target_session_attrs")
            .collect();
        pairs.push(("host".to_owned(), server.host.clone()));
        pairs.push(("port".to_owned(), server.port.to_string()));
        set_libpq_query(&mut target.url, &pairs);
        target
    }

    /// Whether libpq may reach one of several servers (output then names the one it reached).
    pub fn has_several_servers(&self) -> bool {
        self.servers.len() > 1
    }

    /// The URL to connect to this database, with facedb's connection parameters.
    pub fn connection_url(&self, connect_timeout: Option<Duration>) -> String {
        self.url_for(None, connect_timeout)
    }

    /// The URL of the `postgres` maintenance database on the same server (to create ours).
    pub fn maintenance_url(&self, connect_timeout: Option<Duration>) -> String {
        self.url_for(Some("postgres"), connect_timeout)
    }

    fn url_for(&self, dbname: Option<&str>, connect_timeout: Option<Duration>) -> String {
        let mut url = self.url.clone();
        if let Some(dbname) = dbname {
            url.set_path(&format!(
                "/{}",
                utf8_percent_encode(dbname, NON_ALPHANUMERIC)
            ));
        }
        let several = self.has_several_servers();
        let keep: Vec<(String, String)> = libpq_query(&url)
            .into_iter()
            .filter(|(k, _)| !(k == "dbname" && dbname.is_some()))
            .filter(|(k, _)| !(k == "connect_timeout" && connect_timeout.is_some()))
            .filter(|(k, _)| !(several && (k == "host" || k == "port")))
            .collect();
        let has = |key: &str| keep.iter().any(|(k, _)| k == key);
        let mut pairs = keep.clone();
        if several {
            // libpq's query parameters override the URL's one host.
            let list = |part: fn(&Server) -> String| {
                self.servers.iter().map(part).collect::<Vec<_>>().join(",")
            };
            pairs.push(("host".to_owned(), list(|s| s.host.clone())));
            pairs.push(("port".to_owned(), list(|s| s.port.to_string())));
        }
        if !has("application_name") {
            pairs.push(("application_name".to_owned(), "facedb".to_owned()));
        }
        if !has("connect_timeout") {
            let secs = connect_timeout
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
                .as_secs()
                .max(1);
            pairs.push(("connect_timeout".to_owned(), secs.to_string()));
        }
        set_libpq_query(&mut url, &pairs);
        url.to_string()
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Strings that must never reach output: the password decoded, as the URL holds it,
    /// percent-encoded and form-encoded. None when it is empty or the user name (it would hide the user).
    pub fn secrets(&self) -> Vec<String> {
        let Some(password) = self
            .password
            .as_deref()
            .filter(|p| !p.is_empty() && *p != self.user)
        else {
            return Vec::new();
        };
        let mut secrets = vec![
            password.to_owned(),
            utf8_percent_encode(password, NON_ALPHANUMERIC).to_string(),
        ];
        secrets.extend(self.url.password().map(str::to_owned));
        // As a query parameter (a socket directory's URL), the password is form-encoded.
        secrets.push(url::form_urlencoded::byte_serialize(password.as_bytes()).collect());
        secrets.sort();
        secrets.dedup();
        // The longest first, so that a shorter form inside a longer one leaves nothing behind.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets
    }

    /// The connect timeout that applies, for messages.
    pub fn effective_connect_timeout(&self, flag: Option<Duration>) -> Duration {
        flag.or_else(|| {
            libpq_query(&self.url)
                .into_iter()
                .find(|(k, _)| k == "connect_timeout")
                .and_then(|(_, v)| v.parse().ok())
                .map(Duration::from_secs)
        })
        .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
    }
}

/// libpq rejects a `%` not followed by two hex digits, and quotes the offending part (the
/// password, re-encoded) in its message: refuse first, naming only the part.
fn check_percent_encoding(rest: &str, source: &str) -> Result<()> {
    let bytes = rest.as_bytes();
    let bad = bytes.iter().enumerate().find(|&(i, &b)| {
        b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
    });
    let Some((at, _)) = bad else { return Ok(()) };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let part = match rest[..authority_end].rfind('@') {
        Some(userinfo_end) if at < userinfo_end => "user or password",
        _ if at < authority_end => "host",
        _ if rest[..at].contains('?') => "query string",
        _ => "database name",
    };
    Err(Error::Usage(format!(
        "{source} has a '%' that does not start a percent-encoded byte in its {part}; write a literal % as %25 (percent-encode special characters)"
    )))
}

/// libpq's environment variables that would send it to another address or database than the URL
/// names: `PGHOSTADDR` replaces the host's address, a `PGSERVICE` entry may add a `hostaddr`.
pub(super) const REDIRECTING_VARIABLES: [&str; 2] = ["PGHOSTADDR", "PGSERVICE"];

/// Query parameters that would send libpq to another server or database than the one facedb
/// names, guards and confirms.
const REDIRECTING_PARAMETERS: [&str; 3] = ["service", "servicefile", "hostaddr"];

/// Refuses a query string that redirects libpq behind facedb's back: a service definition, a
/// `hostaddr`, a part named both in the URL and in the query (libpq takes the query's), a
/// parameter given twice (libpq takes the last). An `options` search_path is harmless: facedb pins
/// its own schema in every transaction and refuses to write where the search_path shadows it.
fn check_query_parameters(url: &Url, query: &[(String, String)], source: &str) -> Result<()> {
    let refuse = |why: String| Err(Error::Usage(format!("{source} {why}")));
    for (index, (key, _)) in query.iter().enumerate() {
        if REDIRECTING_PARAMETERS.contains(&key.as_str()) {
            return refuse(format!(
                "has ?{key}=, which can point libpq at another server or database than the one facedb shows and guards; put the host, port and database name in the URL itself"
            ));
        }
        if query[..index].iter().any(|(k, _)| k == key) {
            return refuse(format!("gives ?{key}= twice; give it once"));
        }
    }
    let in_url = [
        ("host", url.host_str().is_some_and(|h| !h.is_empty())),
        ("port", url.port().is_some()),
        ("user", !url.username().is_empty()),
        ("password", url.password().is_some()),
        ("dbname", !url.path().trim_start_matches('/').is_empty()),
    ];
    for (key, named) in in_url {
        if named && query.iter().any(|(k, _)| k == key) {
            let part = if key == "dbname" { "database" } else { key };
            return refuse(format!(
                "names the {part} twice, in the URL and as ?{key}= (libpq would use the second); keep one"
            ));
        }
    }
    Ok(())
}

/// What a query value keeps unencoded: letters, digits and RFC 3986's unreserved marks.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The URL's query as libpq reads it: `&`-separated `key=value` pairs, each percent-decoded. Not
/// as a web form: a `+` is a plus sign, which `url`'s form decoding would turn into a space.
fn libpq_query(url: &Url) -> Vec<(String, String)> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    url.query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key), decode(value))
        })
        .collect()
}

/// Writes `pairs` as the URL's query in the form libpq reads ([`libpq_query`]): a space is `%20`,
/// never `+`, which libpq would keep as a plus sign (a password with a space would fail).
fn set_libpq_query(url: &mut Url, pairs: &[(String, String)]) {
    let encode = |s: &str| utf8_percent_encode(s, QUERY_VALUE).to_string();
    let query = pairs
        .iter()
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&");
    url.set_query(Some(&query));
}

/// PostgreSQL's longest name, in bytes (NAMEDATALEN - 1).
const MAX_NAME_BYTES: usize = 63;

/// PostgreSQL silently cuts a longer database name, in CREATE DATABASE and when connecting alike:
/// facedb would report one name and work on another database, which `reset` must never do.
fn check_name_length(name: &str, what: &str) -> Result<()> {
    if name.len() <= MAX_NAME_BYTES {
        return Ok(());
    }
    let mut cut = MAX_NAME_BYTES;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    Err(Error::Usage(format!(
        "{what} is {} bytes long; PostgreSQL would cut it to its first {MAX_NAME_BYTES} bytes ('{}') and facedb would work on that database. Use a name of at most {MAX_NAME_BYTES} bytes",
        name.len(),
        &name[..cut]
    )))
}

/// Splits a host list out of a URL's authority (`u:p@h1:5432,h2:5433/db`): the URL with the first
/// entry only, and the list. `None` when the URL names at most one host.
fn split_server_list(rest: &str) -> (String, Option<String>) {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    if !hosts.contains(',') {
        return (rest.to_owned(), None);
    }
    let first = hosts.split(',').next().unwrap_or_default();
    let first = if first.is_empty() { "localhost" } else { first };
    let rebuilt = match userinfo {
        Some(userinfo) => format!("{userinfo}@{first}{tail}"),
        None => format!("{first}{tail}"),
    };
    (rebuilt, Some(hosts.to_owned()))
}

/// libpq accepts `user:password@/db?host=/socket/dir`, which `url` rejects (credentials without a
/// host): move the credentials into query parameters, where libpq reads them too.
fn move_credentials_of_hostless_url(rest: &str) -> String {
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, hostport)) = authority.rsplit_once('@') else {
        return rest.to_owned();
    };
    if !(hostport.is_empty() || hostport.starts_with(':')) {
        return rest.to_owned();
    }
    let (user, password) = match userinfo.split_once(':') {
        Some((user, password)) => (user, Some(password)),
        None => (userinfo, None),
    };
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let mut params: Vec<String> = query
        .into_iter()
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .collect();
    if let Some(port) = hostport.strip_prefix(':').filter(|p| !p.is_empty()) {
        params.push(format!("port={port}"));
    }
    if !user.is_empty() {
        params.push(format!("user={user}"));
    }
    if let Some(password) = password {
        params.push(format!("password={password}"));
    }
    format!("{path}?{}", params.join("&"))
}

fn parse_port(value: &str, what: &str) -> Result<u16> {
    match value.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(port),
        _ => Err(Error::Usage(format!(
            "{what} must be a port number from 1 to 65535, got '{value}'"
        ))),
    }
}
