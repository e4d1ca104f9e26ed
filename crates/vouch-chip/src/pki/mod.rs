//! The eMRTD public-key infrastructure: certificates, CMS, the SOD, the CSCA trust store and passive
//! authentication.

pub mod cms;
pub mod passive_auth;
pub mod sod;
pub mod trust;
pub mod x509;
