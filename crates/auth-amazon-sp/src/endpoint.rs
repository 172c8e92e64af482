//! Where the Login with Amazon token endpoint, the SP-API and the consent pages live.

use std::fmt;

use auth_core::Url;

/// The LWA token endpoint's path on every LWA host.
pub const TOKEN_PATH: &str = "/auth/o2/token";
/// The consent page's path on every Seller Central and Vendor Central host.
pub const CONSENT_PATH: &str = "/apps/authorize/consent";
/// The Tokens API operation that issues Restricted Data Tokens.
pub const RDT_PATH: &str = "/tokens/2021-03-01/restrictedDataToken";

/// The SP-API's production or sandbox endpoints.
///
/// Both use the same LWA token endpoint and credentials; only the SP-API host differs.
/// Production is the default, as in every vendor crate of this workspace: choose
/// `Sandbox` explicitly.
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

pub use crate::generated::endpoints::Region;
pub use crate::generated::marketplaces::Marketplace;

/// The default Login with Amazon token endpoint: `api.amazon.com` serves every region
/// and is what every official SP-API SDK calls.
pub const DEFAULT_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";

impl Region {
    /// The SP-API base URL of this region in `environment` (with a trailing `/`).
    ///
    /// # Examples
    ///
    /// ```
    /// use auth_amazon_sp::{Environment, Region};
    ///
    /// assert_eq!(
    ///     Region::Europe.api_base_url(Environment::Sandbox).as_str(),
    ///     "https://sandbox.sellingpartnerapi-eu.amazon.com/"
    /// );
    /// ```
    pub fn api_base_url(&self, environment: Environment) -> Url {
        let url = match environment {
            Environment::Production => self.production_url(),
            Environment::Sandbox => self.sandbox_url(),
        };
        Url::parse(url).expect("generated SP-API URL is valid")
    }

    /// The regional LWA token endpoint as a URL.
    pub fn lwa_url(&self) -> Url {
        Url::parse(self.lwa_token_url()).expect("generated LWA URL is valid")
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

impl Portal {
    /// `Seller Central` or `Vendor Central`.
    pub const fn name(&self) -> &'static str {
        match self {
            Portal::SellerCentral => "Seller Central",
            Portal::VendorCentral => "Vendor Central",
        }
    }
}

impl Marketplace {
    /// The marketplace of a country code, any case (`GB` is taken as `UK`).
    pub fn from_country_code(code: &str) -> Option<Self> {
        let code = if code.eq_ignore_ascii_case("GB") {
            "UK"
        } else {
            code
        };
        Marketplace::ALL
            .iter()
            .find(|m| m.country_code().eq_ignore_ascii_case(code))
            .copied()
    }

    /// The consent host for `portal`, if one is known.
    pub const fn consent_host(&self, portal: Portal) -> Option<&'static str> {
        match portal {
            Portal::SellerCentral => self.seller_central_host(),
            Portal::VendorCentral => self.vendor_central_host(),
        }
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
            assert_eq!(region.api_base_url(env).as_str(), url);
        }
        assert_eq!(Region::NorthAmerica.aws_region(), "us-east-1");
        assert_eq!(Region::Europe.aws_region(), "eu-west-1");
        assert_eq!(Region::FarEast.aws_region(), "us-west-2");
        assert_eq!(Region::default(), Region::NorthAmerica);
        assert_eq!("fe".parse::<Region>().unwrap(), Region::FarEast);
    }

    #[test]
    fn lwa_hosts() {
        assert_eq!(Region::NorthAmerica.lwa_url().as_str(), DEFAULT_TOKEN_URL);
        assert_eq!(
            Region::Europe.lwa_url().as_str(),
            "https://api.amazon.co.uk/auth/o2/token"
        );
        assert_eq!(
            Region::FarEast.lwa_url().as_str(),
            "https://api.amazon.co.jp/auth/o2/token"
        );
        for region in Region::ALL {
            assert_eq!(region.lwa_url().path(), TOKEN_PATH);
        }
    }

    #[test]
    fn marketplace_ids_and_country_codes_parse_back() {
        for m in Marketplace::ALL {
            assert_eq!(m.as_str().parse::<Marketplace>().unwrap(), *m);
            assert_eq!(
                Marketplace::from_country_code(&m.country_code().to_lowercase()),
                Some(*m)
            );
            assert!(m.seller_central_host().is_some(), "{m:?}");
        }
        assert_eq!(
            Marketplace::from_country_code("GB"),
            Some(Marketplace::UnitedKingdom)
        );
        assert_eq!(Marketplace::from_country_code("XX"), None);
        assert!("XX".parse::<Marketplace>().is_err());
        assert_eq!(
            Marketplace::Ireland.consent_host(Portal::VendorCentral),
            None
        );
    }

    #[test]
    fn every_marketplace_is_served_by_its_regions_host() {
        let by_region = |r| {
            Marketplace::ALL
                .iter()
                .filter(move |m| m.region() == r)
                .count()
        };
        assert_eq!(by_region(Region::NorthAmerica), 4);
        assert_eq!(by_region(Region::FarEast), 3);
        assert_eq!(Marketplace::Japan.region(), Region::FarEast);
        assert_eq!(Marketplace::India.region(), Region::Europe);
    }
}
