//! Where the Login with Amazon token endpoint, the SP-API and the consent pages live.

use std::fmt;
use std::str::FromStr;

use auth_core::{AuthError, Url};

/// The LWA token endpoint's path on every LWA host.
pub const TOKEN_PATH: &str = "/auth/o2/token";
/// The consent page's path on every Seller Central and Vendor Central host.
pub const CONSENT_PATH: &str = "/apps/authorize/consent";
/// The Tokens API operation that issues Restricted Data Tokens.
pub const RDT_PATH: &str = "/tokens/2021-03-01/restrictedDataToken";

/// The SP-API's production or sandbox endpoints.
///
/// Both use the same LWA token endpoint and credentials; only the SP-API host differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Environment {
    /// `https://sellingpartnerapi-{na,eu,fe}.amazon.com`.
    #[default]
    Production,
    /// `https://sandbox.sellingpartnerapi-{na,eu,fe}.amazon.com`: static and dynamic
    /// sandbox answers, no real data.
    Sandbox,
}

impl Environment {
    /// `production` or `sandbox` (what a token store key holds).
    pub const fn as_str(&self) -> &'static str {
        match self {
            Environment::Production => "production",
            Environment::Sandbox => "sandbox",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An SP-API selling region: each has its own API host and AWS region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Region {
    /// North America (Canada, US, Mexico, Brazil): `sellingpartnerapi-na`, `us-east-1`.
    #[default]
    NorthAmerica,
    /// Europe, the Middle East, Africa and India: `sellingpartnerapi-eu`, `eu-west-1`.
    Europe,
    /// Far East (Singapore, Australia, Japan): `sellingpartnerapi-fe`, `us-west-2`.
    FarEast,
}

impl Region {
    /// Every region.
    pub const ALL: &'static [Region] = &[Region::NorthAmerica, Region::Europe, Region::FarEast];

    /// `na`, `eu` or `fe`, as in the host names.
    pub const fn code(&self) -> &'static str {
        match self {
            Region::NorthAmerica => "na",
            Region::Europe => "eu",
            Region::FarEast => "fe",
        }
    }

    /// The AWS region of the SP-API host (the credential scope of SigV4-signed calls).
    pub const fn aws_region(&self) -> &'static str {
        match self {
            Region::NorthAmerica => "us-east-1",
            Region::Europe => "eu-west-1",
            Region::FarEast => "us-west-2",
        }
    }

    /// The SP-API base URL of this region in `environment`.
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_amazon_sp::{Environment, Region};
    ///
    /// assert_eq!(
    ///     Region::Europe.sp_api_url(Environment::Sandbox).as_str(),
    ///     "https://sandbox.sellingpartnerapi-eu.amazon.com/"
    /// );
    /// ```
    pub fn sp_api_url(&self, environment: Environment) -> Url {
        let host = match environment {
            Environment::Production => {
                format!("https://sellingpartnerapi-{}.amazon.com", self.code())
            }
            Environment::Sandbox => format!(
                "https://sandbox.sellingpartnerapi-{}.amazon.com",
                self.code()
            ),
        };
        Url::parse(&host).expect("static SP-API host is a valid URL")
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Region {
    type Err = AuthError;

    /// Parses `na`, `eu` or `fe` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Region::ALL
            .iter()
            .find(|r| r.code().eq_ignore_ascii_case(s))
            .copied()
            .ok_or_else(|| {
                AuthError::InvalidConfig(format!(
                    "unknown SP-API region `{s}`: expected na, eu or fe"
                ))
            })
    }
}

/// Which Login with Amazon host issues tokens.
///
/// Every official SP-API SDK uses `api.amazon.com` for all regions and it serves European
/// and Far East sellers too, so that is the default; the regional LWA hosts are there for
/// those who want the token call to stay in the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum LwaEndpoint {
    /// `https://api.amazon.com/auth/o2/token` (every region).
    #[default]
    Global,
    /// `https://api.amazon.co.uk/auth/o2/token`.
    Europe,
    /// `https://api.amazon.co.jp/auth/o2/token`.
    FarEast,
}

impl LwaEndpoint {
    /// The LWA host.
    pub const fn host(&self) -> &'static str {
        match self {
            LwaEndpoint::Global => "api.amazon.com",
            LwaEndpoint::Europe => "api.amazon.co.uk",
            LwaEndpoint::FarEast => "api.amazon.co.jp",
        }
    }

    /// The token endpoint URL.
    pub fn token_url(&self) -> Url {
        Url::parse(&format!("https://{}{TOKEN_PATH}", self.host()))
            .expect("static LWA URL is valid")
    }
}

/// Seller Central (sellers) or Vendor Central (vendors): where the consent page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Portal {
    /// Seller Central, for seller applications.
    #[default]
    SellerCentral,
    /// Vendor Central, for vendor applications.
    VendorCentral,
}

macro_rules! marketplaces {
    ($($(#[$meta:meta])* $name:ident = $id:literal, $country:literal, $region:ident, $seller:expr, $vendor:expr;)*) => {
        /// An Amazon marketplace, with its id, region and consent hosts.
        ///
        /// Seller Central and Vendor Central hosts are from Amazon's "Seller Central URLs" and
        /// "Vendor Central URLs" tables as mirrored by several SP-API libraries; a `None` host
        /// means no source confirmed one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Marketplace {
            $($(#[$meta])* $name,)*
        }

        impl Marketplace {
            /// Every marketplace.
            pub const ALL: &'static [Marketplace] = &[$(Marketplace::$name,)*];

            /// The marketplace id (`ATVPDKIKX0DER` for amazon.com).
            pub const fn id(&self) -> &'static str {
                match self { $(Marketplace::$name => $id,)* }
            }

            /// The ISO country code Amazon uses (`UK` for the United Kingdom).
            pub const fn country_code(&self) -> &'static str {
                match self { $(Marketplace::$name => $country,)* }
            }

            /// The SP-API region whose host serves this marketplace.
            pub const fn region(&self) -> Region {
                match self { $(Marketplace::$name => Region::$region,)* }
            }

            /// The Seller Central host, if one is confirmed.
            pub const fn seller_central_host(&self) -> Option<&'static str> {
                match self { $(Marketplace::$name => $seller,)* }
            }

            /// The Vendor Central host, if one is confirmed.
            pub const fn vendor_central_host(&self) -> Option<&'static str> {
                match self { $(Marketplace::$name => $vendor,)* }
            }
        }
    };
}

marketplaces! {
    /// amazon.ca
    Canada = "A2EUQ1WTGCTBG2", "CA", NorthAmerica, Some("sellercentral.amazon.ca"), Some("vendorcentral.amazon.ca");
    /// amazon.com
    UnitedStates = "ATVPDKIKX0DER", "US", NorthAmerica, Some("sellercentral.amazon.com"), Some("vendorcentral.amazon.com");
    /// amazon.com.mx
    Mexico = "A1AM78C64UM0Y8", "MX", NorthAmerica, Some("sellercentral.amazon.com.mx"), Some("vendorcentral.amazon.com.mx");
    /// amazon.com.br
    Brazil = "A2Q3Y263D00KWC", "BR", NorthAmerica, Some("sellercentral.amazon.com.br"), Some("vendorcentral.amazon.com.br");
    /// amazon.ie (Seller Central host unconfirmed: sources give both `sellercentral.amazon.ie`
    /// and `sellercentral-europe.amazon.com`; no Vendor Central host found)
    Ireland = "A28R8C7NBKEWEA", "IE", Europe, Some("sellercentral.amazon.ie"), None;
    /// amazon.es
    Spain = "A1RKKUPIHCS9HS", "ES", Europe, Some("sellercentral-europe.amazon.com"), Some("vendorcentral.amazon.es");
    /// amazon.co.uk
    UnitedKingdom = "A1F83G8C2ARO7P", "UK", Europe, Some("sellercentral-europe.amazon.com"), Some("vendorcentral.amazon.co.uk");
    /// amazon.fr
    France = "A13V1IB3VIYZZH", "FR", Europe, Some("sellercentral-europe.amazon.com"), Some("vendorcentral.amazon.fr");
    /// amazon.com.be
    Belgium = "AMEN7PMS3EDWL", "BE", Europe, Some("sellercentral.amazon.com.be"), Some("vendorcentral.amazon.com.be");
    /// amazon.nl
    Netherlands = "A1805IZSGTT6HS", "NL", Europe, Some("sellercentral.amazon.nl"), Some("vendorcentral.amazon.nl");
    /// amazon.de
    Germany = "A1PA6795UKMFR9", "DE", Europe, Some("sellercentral-europe.amazon.com"), Some("vendorcentral.amazon.de");
    /// amazon.it
    Italy = "APJ6JRA9NG5V4", "IT", Europe, Some("sellercentral-europe.amazon.com"), Some("vendorcentral.amazon.it");
    /// amazon.se
    Sweden = "A2NODRKZP88ZB9", "SE", Europe, Some("sellercentral.amazon.se"), Some("vendorcentral.amazon.se");
    /// amazon.co.za (Vendor Central host from one library only: unconfirmed)
    SouthAfrica = "AE08WJ6YKNBMC", "ZA", Europe, Some("sellercentral.amazon.co.za"), Some("vendorcentral.amazon.co.za");
    /// amazon.pl
    Poland = "A1C3SOZRARQ6R3", "PL", Europe, Some("sellercentral.amazon.pl"), Some("vendorcentral.amazon.pl");
    /// amazon.eg (Vendor Central is the shared Middle East host)
    Egypt = "ARBP9OOSHTCHU", "EG", Europe, Some("sellercentral.amazon.eg"), Some("vendorcentral.amazon.me");
    /// amazon.com.tr
    Turkey = "A33AVAJ2PDY3EV", "TR", Europe, Some("sellercentral.amazon.com.tr"), Some("vendorcentral.amazon.com.tr");
    /// amazon.sa (Vendor Central is the shared Middle East host)
    SaudiArabia = "A17E79C6D8DWNP", "SA", Europe, Some("sellercentral.amazon.sa"), Some("vendorcentral.amazon.me");
    /// amazon.ae (Vendor Central is the shared Middle East host)
    UnitedArabEmirates = "A2VIGQ35RCS4UG", "AE", Europe, Some("sellercentral.amazon.ae"), Some("vendorcentral.amazon.me");
    /// amazon.in
    India = "A21TJRUUN4KGV", "IN", Europe, Some("sellercentral.amazon.in"), Some("vendorcentral.amazon.in");
    /// amazon.sg
    Singapore = "A19VAU5U5O7RUS", "SG", FarEast, Some("sellercentral.amazon.sg"), Some("vendorcentral.amazon.com.sg");
    /// amazon.com.au
    Australia = "A39IBJ37TRP1C6", "AU", FarEast, Some("sellercentral.amazon.com.au"), Some("vendorcentral.amazon.com.au");
    /// amazon.co.jp
    Japan = "A1VC38T7YXB528", "JP", FarEast, Some("sellercentral.amazon.co.jp"), Some("vendorcentral.amazon.co.jp");
}

impl Marketplace {
    /// The marketplace with this id.
    pub fn from_id(id: &str) -> Option<Self> {
        Marketplace::ALL.iter().find(|m| m.id() == id).copied()
    }

    /// The consent host for `portal`, if one is confirmed.
    pub const fn consent_host(&self, portal: Portal) -> Option<&'static str> {
        match portal {
            Portal::SellerCentral => self.seller_central_host(),
            Portal::VendorCentral => self.vendor_central_host(),
        }
    }
}

impl fmt::Display for Marketplace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.country_code())
    }
}

impl FromStr for Marketplace {
    type Err = AuthError;

    /// Parses a marketplace id (`A1PA6795UKMFR9`) or a country code (`DE`; `GB` is taken
    /// as `UK`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = if s.eq_ignore_ascii_case("GB") {
            "UK"
        } else {
            s
        };
        Marketplace::ALL
            .iter()
            .find(|m| m.id() == s || m.country_code().eq_ignore_ascii_case(code))
            .copied()
            .ok_or_else(|| AuthError::InvalidConfig(format!("unknown Amazon marketplace `{s}`")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sp_api_hosts_per_region_and_environment() {
        let expect = [
            (
                Region::NorthAmerica,
                Environment::Production,
                "https://sellingpartnerapi-na.amazon.com/",
            ),
            (
                Region::Europe,
                Environment::Production,
                "https://sellingpartnerapi-eu.amazon.com/",
            ),
            (
                Region::FarEast,
                Environment::Production,
                "https://sellingpartnerapi-fe.amazon.com/",
            ),
            (
                Region::NorthAmerica,
                Environment::Sandbox,
                "https://sandbox.sellingpartnerapi-na.amazon.com/",
            ),
            (
                Region::Europe,
                Environment::Sandbox,
                "https://sandbox.sellingpartnerapi-eu.amazon.com/",
            ),
            (
                Region::FarEast,
                Environment::Sandbox,
                "https://sandbox.sellingpartnerapi-fe.amazon.com/",
            ),
        ];
        for (region, env, url) in expect {
            assert_eq!(region.sp_api_url(env).as_str(), url);
        }
        assert_eq!(Region::NorthAmerica.aws_region(), "us-east-1");
        assert_eq!(Region::Europe.aws_region(), "eu-west-1");
        assert_eq!(Region::FarEast.aws_region(), "us-west-2");
    }

    #[test]
    fn lwa_hosts() {
        assert_eq!(
            LwaEndpoint::default().token_url().as_str(),
            "https://api.amazon.com/auth/o2/token"
        );
        assert_eq!(
            LwaEndpoint::Europe.token_url().as_str(),
            "https://api.amazon.co.uk/auth/o2/token"
        );
        assert_eq!(
            LwaEndpoint::FarEast.token_url().as_str(),
            "https://api.amazon.co.jp/auth/o2/token"
        );
    }

    #[test]
    fn marketplace_ids_are_unique_and_parse_back() {
        for m in Marketplace::ALL {
            assert_eq!(Marketplace::from_id(m.id()), Some(*m));
            assert_eq!(m.id().parse::<Marketplace>().unwrap(), *m);
            assert_eq!(
                m.country_code()
                    .to_lowercase()
                    .parse::<Marketplace>()
                    .unwrap(),
                *m
            );
            assert!(m.seller_central_host().is_some());
        }
        assert_eq!(
            "GB".parse::<Marketplace>().unwrap(),
            Marketplace::UnitedKingdom
        );
        assert!("XX".parse::<Marketplace>().is_err());
    }
}
