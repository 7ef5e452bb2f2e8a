//! Throttling per client address: one table ([`THROTTLED_ROUTES`]) maps routes to classes, one
//! middleware ([`enforce`]) checks the class's keyed limiter for [`ClientInfo::ip`] — an IPv6
//! client by its network ([`ClientKey`], a /64 unless configured), not its full address.
//!
//! To throttle a new route, add a line to the table; a server function's path is its
//! `ServerFn::PATH` (its `prefix` + `endpoint`).

use std::{
    net::IpAddr,
    num::NonZeroU32,
    sync::{Arc, Weak},
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use server_fn::ServerFn;

use super::{ClientInfo, ClientKey, HttpSettings};
use crate::{error::AppError, server_fns};

/// What a throttled route is for; each class has its own budget per client address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThrottleClass {
    Login,
    Register,
    Live,
    SecondFactor,
}

impl ThrottleClass {
    pub const ALL: [Self; 4] = [Self::Login, Self::Register, Self::Live, Self::SecondFactor];

    /// "Too many {what} from your network."
    fn what(self) -> &'static str {
        match self {
            Self::Login => "login attempts",
            Self::Register => "registrations",
            Self::Live => "face checks",
            Self::SecondFactor => "code attempts",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A method and exact path that is throttled.
#[derive(Debug)]
pub struct ThrottledRoute {
    pub method: Method,
    pub(crate) path: &'static str,
    pub(crate) class: ThrottleClass,
}

const fn route(method: Method, path: &'static str, class: ThrottleClass) -> ThrottledRoute {
    ThrottledRoute { method, path, class }
}

/// Every throttled route. `GET /login` and `GET /register` are the pages: not throttled.
pub static THROTTLED_ROUTES: &[ThrottledRoute] = &[
    // Log in: REST, its root alias, the page's server function.
    route(Method::POST, "/api/login", ThrottleClass::Login),
    route(Method::POST, "/login", ThrottleClass::Login),
    route(
        Method::POST,
        <server_fns::LogIn as ServerFn>::PATH,
        ThrottleClass::Login,
    ),
    // Register.
    route(Method::POST, "/api/register", ThrottleClass::Register),
    route(Method::POST, "/register", ThrottleClass::Register),
    route(
        Method::POST,
        <server_fns::Register as ServerFn>::PATH,
        ThrottleClass::Register,
    ),
    // The live face check: the socket, and challenges for uploaded clips.
    route(Method::GET, crate::live::LIVE_PATH, ThrottleClass::Live),
    route(Method::POST, "/api/liveness", ThrottleClass::Live),
    // The second factor after a face login: the PIN and the passkey, REST and server functions.
    route(Method::POST, "/api/login/pin", ThrottleClass::SecondFactor),
    route(
        Method::POST,
        "/api/login/passkey/start",
        ThrottleClass::SecondFactor,
    ),
    route(
        Method::POST,
        "/api/login/passkey/finish",
        ThrottleClass::SecondFactor,
    ),
    route(
        Method::POST,
        <server_fns::ConfirmPin as ServerFn>::PATH,
        ThrottleClass::SecondFactor,
    ),
    route(
        Method::POST,
        <server_fns::StartPasskeyLogin as ServerFn>::PATH,
        ThrottleClass::SecondFactor,
    ),
    route(
        Method::POST,
        <server_fns::FinishPasskeyLogin as ServerFn>::PATH,
        ThrottleClass::SecondFactor,
    ),
    // Adding a passkey: its ceremony counts like a second-factor step.
    route(
        Method::POST,
        "/api/account/passkeys/start",
        ThrottleClass::SecondFactor,
    ),
    route(
        Method::POST,
        "/api/account/passkeys/finish",
        ThrottleClass::SecondFactor,
    ),
    route(
        Method::POST,
        <server_fns::StartAddingPasskey as ServerFn>::PATH,
        ThrottleClass::SecondFactor,
    ),
    route(
        Method::POST,
        <server_fns::FinishAddingPasskey as ServerFn>::PATH,
        ThrottleClass::SecondFactor,
    ),
];

/// The class of a request, if it is throttled.
pub fn class_of(method: &Method, path: &str) -> Option<ThrottleClass> {
    // Both `/api/login` and `/api/login/` reach the same handler.
    let path = match path.strip_suffix('/') {
        Some(stripped) if !stripped.is_empty() => stripped,
        _ => path,
    };
    THROTTLED_ROUTES
        .iter()
        .find(|route| route.method == *method && route.path == path)
        .map(|route| route.class)
}

/// One keyed limiter per class.
pub struct Throttle {
    limiters: [DefaultKeyedRateLimiter<ClientKey>; 4],
    clock: DefaultClock,
    ipv6_prefix_len: u8,
}

impl Throttle {
    /// The limiters, or `None` when throttling is switched off.
    pub fn from_settings(settings: &HttpSettings) -> Option<Arc<Self>> {
        if !settings.throttle {
            return None;
        }
        let clock = DefaultClock::default();
        let limiter = |class| {
            let (per_minute, burst) = budget(settings, class);
            RateLimiter::dashmap_with_clock(quota(per_minute, burst), clock.clone())
        };
        Some(Arc::new(Self {
            limiters: ThrottleClass::ALL.map(limiter),
            clock,
            ipv6_prefix_len: settings.front_door.ipv6_prefix_len,
        }))
    }

    /// The key `ip` is counted under: an IPv6 address by its network.
    pub fn key(&self, ip: IpAddr) -> ClientKey {
        ClientKey::of(ip, self.ipv6_prefix_len)
    }

    /// `Err(wait)` when `ip` (its [`ClientKey`]) has spent its budget for `class`.
    pub fn check(&self, class: ThrottleClass, ip: IpAddr) -> Result<(), Duration> {
        self.limiters[class.index()]
            .check_key(&self.key(ip))
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    #[cfg(test)]
    /// Client addresses remembered, over all classes.
    pub fn remembered_clients(&self) -> usize {
        self.limiters.iter().map(|limiter| limiter.len()).sum()
    }

    /// Forgets addresses whose budget is full again, so memory follows recent clients only.
    pub fn forget_idle_clients(&self) {
        for limiter in &self.limiters {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Sweeps idle clients every minute until shutdown or until the throttle is dropped (with
    /// its router).
    pub fn sweep_in_background(throttle: &Arc<Self>, background: &crate::background::Background) {
        let throttle: Weak<Self> = Arc::downgrade(throttle);
        background.every("throttle sweep", Duration::from_secs(60), move || {
            if let Some(throttle) = throttle.upgrade() {
                throttle.forget_idle_clients();
            }
            std::future::ready(())
        });
    }
}

fn budget(settings: &HttpSettings, class: ThrottleClass) -> (u32, u32) {
    match class {
        ThrottleClass::Login => (settings.throttle_login_per_minute, settings.throttle_login_burst),
        ThrottleClass::Register => (
            settings.throttle_register_per_minute,
            settings.throttle_register_burst,
        ),
        ThrottleClass::Live => (settings.throttle_live_per_minute, settings.throttle_live_burst),
        ThrottleClass::SecondFactor => (
            settings.throttle_second_factor_per_minute,
            settings.throttle_second_factor_burst,
        ),
    }
}

/// `burst` at once, then one more every `60 / per_minute` seconds. Zeroes (refused by the
/// settings' parsers) are read as one.
fn quota(per_minute: u32, burst: u32) -> Quota {
    let one = NonZeroU32::MIN;
    let per_minute = NonZeroU32::new(per_minute).unwrap_or(one);
    let burst = NonZeroU32::new(burst).unwrap_or(one);
    Quota::per_minute(per_minute).allow_burst(burst)
}

/// Middleware: 429 with `Retry-After` when the client's budget for this route's class is spent.
pub async fn enforce(
    State(throttle): State<Option<Arc<Throttle>>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(throttle) = throttle else {
        return next.run(request).await;
    };
    let Some(class) = class_of(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let Some(client) = request.extensions().get::<ClientInfo>().copied() else {
        // Attached by the middleware outside this one; without it there is no key to count by.
        tracing::error!("throttle: no client info on the request");
        return next.run(request).await;
    };
    match throttle.check(class, client.ip) {
        Ok(()) => next.run(request).await,
        Err(wait) => too_many_requests(class, throttle.key(client.ip), wait),
    }
}

fn too_many_requests(class: ThrottleClass, ip: ClientKey, wait: Duration) -> Response {
    // Whole seconds, rounded up: a client that waits this long is let in.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let seconds = seconds.max(1);
    tracing::info!(client = %ip, ?class, retry_after = seconds, "throttled");
    let unit = if seconds == 1 { "second" } else { "seconds" };
    let message = format!(
        "Too many {} from your network. Try again in {seconds} {unit}.",
        class.what()
    );
    AppError::RetryLater {
        code: "too_many_requests",
        message,
        retry_after: Duration::from_secs(seconds),
    }
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_pages_apart_from_posts() {
        assert_eq!(class_of(&Method::POST, "/login"), Some(ThrottleClass::Login));
        assert_eq!(class_of(&Method::GET, "/login"), None);
        assert_eq!(class_of(&Method::POST, "/fn/log_in"), Some(ThrottleClass::Login));
        assert_eq!(
            class_of(&Method::POST, "/fn/register"),
            Some(ThrottleClass::Register)
        );
        assert_eq!(class_of(&Method::GET, "/api/live"), Some(ThrottleClass::Live));
        assert_eq!(class_of(&Method::POST, "/api/login/"), Some(ThrottleClass::Login));
        assert_eq!(
            class_of(&Method::POST, "/api/login/pin"),
            Some(ThrottleClass::SecondFactor)
        );
        assert_eq!(class_of(&Method::POST, "/api/logout"), None);
        assert_eq!(class_of(&Method::POST, "/"), None);
    }

    #[test]
    fn a_spent_budget_says_how_long_to_wait() {
        let config = crate::config::Config::parse_with_file(
            None,
            [
                "facegate",
                "--throttle-login-per-minute",
                "2",
                "--throttle-login-burst",
                "2",
            ],
        )
        .expect("config");
        let throttle = Throttle::from_settings(&config.http).expect("on");
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(throttle.check(ThrottleClass::Login, ip).is_ok());
        assert!(throttle.check(ThrottleClass::Login, ip).is_ok());
        let wait = throttle.check(ThrottleClass::Login, ip).expect_err("spent");
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
        // Other classes and other addresses have their own budgets.
        assert!(throttle.check(ThrottleClass::Register, ip).is_ok());
        assert!(
            throttle
                .check(ThrottleClass::Login, "192.0.2.2".parse().expect("ip"))
                .is_ok()
        );
    }

    #[test]
    fn one_ipv6_network_has_one_budget() {
        let config = crate::config::Config::parse_with_file(
            None,
            [
                "facegate",
                "--throttle-login-per-minute",
                "1",
                "--throttle-login-burst",
                "2",
            ],
        )
        .expect("config");
        let throttle = Throttle::from_settings(&config.http).expect("on");
        let ip = |text: &str| text.parse::<IpAddr>().expect("ip");
        assert!(
            throttle
                .check(ThrottleClass::Login, ip("2001:db8:0:1::1"))
                .is_ok()
        );
        assert!(
            throttle
                .check(ThrottleClass::Login, ip("2001:db8:0:1::2"))
                .is_ok()
        );
        // A third address of the same /64 finds the budget spent; the next /64 has its own.
        for rotated in ["2001:db8:0:1::3", "2001:db8:0:1:ffff:ffff:ffff:ffff"] {
            assert!(
                throttle.check(ThrottleClass::Login, ip(rotated)).is_err(),
                "{rotated}"
            );
        }
        assert!(
            throttle
                .check(ThrottleClass::Login, ip("2001:db8:0:2::1"))
                .is_ok()
        );
        // With /128 keys every address has its own budget again.
        let config = crate::config::Config::parse_with_file(
            None,
            [
                "facegate",
                "--throttle-login-burst",
                "1",
                "--ipv6-prefix-len",
                "128",
            ],
        )
        .expect("config");
        let throttle = Throttle::from_settings(&config.http).expect("on");
        assert!(throttle.check(ThrottleClass::Login, ip("2001:db8::1")).is_ok());
        assert!(throttle.check(ThrottleClass::Login, ip("2001:db8::2")).is_ok());
    }

    #[test]
    fn idle_clients_are_forgotten() {
        let config = crate::config::Config::parse_with_file(
            None,
            [
                "facegate",
                "--throttle-login-per-minute",
                "120",
                "--throttle-login-burst",
                "1",
            ],
        )
        .expect("config");
        let throttle = Throttle::from_settings(&config.http).expect("on");
        for last in 0..100u8 {
            let _ = throttle.check(ThrottleClass::Login, IpAddr::from([192, 0, 2, last]));
        }
        assert_eq!(throttle.remembered_clients(), 100);
        throttle.forget_idle_clients();
        assert_eq!(
            throttle.remembered_clients(),
            100,
            "still within their refill time"
        );
        // One token every 0.5 s; governor forgets an address one refill interval after its budget
        // is full again.
        std::thread::sleep(Duration::from_millis(1300));
        throttle.forget_idle_clients();
        assert_eq!(throttle.remembered_clients(), 0);
    }

    #[test]
    fn throttling_can_be_switched_off() {
        let config = crate::config::Config::parse_with_file(None, ["facegate", "--throttle", "false"])
            .expect("config");
        assert!(Throttle::from_settings(&config.http).is_none());
    }
}
