//! The codes an MRZ may name as issuing state or nationality (ICAO 9303 part 3, section 5): the ISO 3166-1
//! alpha-3 codes (249, from Debian's `iso-codes` 4.15.0), Germany's single `D`, and the codes ICAO adds for
//! British subjects, the United Nations, organisations, stateless persons and refugees. `UTO` is ICAO's
//! fictional Utopia, printed on its specimens.
//!
//! A reading whose check digits fail is still an MRZ when its structure says so; a state code it names is
//! the strongest part of that structure, as random print names one by chance about once in sixty.

/// ISO 3166-1 alpha-3, sorted.
const ISO_3166_ALPHA_3: [&str; 249] = [
    "ABW", "AFG", "AGO", "AIA", "ALA", "ALB", "AND", "ARE", "ARG", "ARM", "ASM", "ATA", "ATF", "ATG", "AUS", "AUT",
    "AZE", "BDI", "BEL", "BEN", "BES", "BFA", "BGD", "BGR", "BHR", "BHS", "BIH", "BLM", "BLR", "BLZ", "BMU", "BOL",
    "BRA", "BRB", "BRN", "BTN", "BVT", "BWA", "CAF", "CAN", "CCK", "CHE", "CHL", "CHN", "CIV", "CMR", "COD", "COG",
    "COK", "COL", "COM", "CPV", "CRI", "CUB", "CUW", "CXR", "CYM", "CYP", "CZE", "DEU", "DJI", "DMA", "DNK", "DOM",
    "DZA", "ECU", "EGY", "ERI", "ESH", "ESP", "EST", "ETH", "FIN", "FJI", "FLK", "FRA", "FRO", "FSM", "GAB", "GBR",
    "GEO", "GGY", "GHA", "GIB", "GIN", "GLP", "GMB", "GNB", "GNQ", "GRC", "GRD", "GRL", "GTM", "GUF", "GUM", "GUY",
    "HKG", "HMD", "HND", "HRV", "HTI", "HUN", "IDN", "IMN", "IND", "IOT", "IRL", "IRN", "IRQ", "ISL", "ISR", "ITA",
    "JAM", "JEY", "JOR", "JPN", "KAZ", "KEN", "KGZ", "KHM", "KIR", "KNA", "KOR", "KWT", "LAO", "LBN", "LBR", "LBY",
    "LCA", "LIE", "LKA", "LSO", "LTU", "LUX", "LVA", "MAC", "MAF", "MAR", "MCO", "MDA", "MDG", "MDV", "MEX", "MHL",
    "MKD", "MLI", "MLT", "MMR", "MNE", "MNG", "MNP", "MOZ", "MRT", "MSR", "MTQ", "MUS", "MWI", "MYS", "MYT", "NAM",
    "NCL", "NER", "NFK", "NGA", "NIC", "NIU", "NLD", "NOR", "NPL", "NRU", "NZL", "OMN", "PAK", "PAN", "PCN", "PER",
    "PHL", "PLW", "PNG", "POL", "PRI", "PRK", "PRT", "PRY", "PSE", "PYF", "QAT", "REU", "ROU", "RUS", "RWA", "SAU",
    "SDN", "SEN", "SGP", "SGS", "SHN", "SJM", "SLB", "SLE", "SLV", "SMR", "SOM", "SPM", "SRB", "SSD", "STP", "SUR",
    "SVK", "SVN", "SWE", "SWZ", "SXM", "SYC", "SYR", "TCA", "TCD", "TGO", "THA", "TJK", "TKL", "TKM", "TLS", "TON",
    "TTO", "TUN", "TUR", "TUV", "TWN", "TZA", "UGA", "UKR", "UMI", "URY", "USA", "UZB", "VAT", "VCT", "VEN", "VGB",
    "VIR", "VNM", "VUT", "WLF", "WSM", "YEM", "ZAF", "ZMB", "ZWE",
];

/// ICAO 9303 part 3's codes beyond ISO 3166-1, sorted.
const ICAO_EXTRA: [&str; 26] = [
    "D", "EUE", "GBD", "GBN", "GBO", "GBP", "GBS", "RKS", "UNA", "UNK", "UNO", "UTO", "XBA", "XCC", "XCE", "XCO",
    "XDC", "XEC", "XES", "XIM", "XOM", "XPO", "XXA", "XXB", "XXC", "XXX",
];

/// Whether `code` (as printed, fillers included: `D<<`) names a state, an organisation or a status ICAO
/// 9303 lists.
pub fn is_known(code: &str) -> bool {
    let code = code.trim_end_matches('<');
    ISO_3166_ALPHA_3.binary_search(&code).is_ok() || ICAO_EXTRA.binary_search(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_sorted_for_binary_search() {
        for list in [&ISO_3166_ALPHA_3[..], &ICAO_EXTRA[..]] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }

    #[test]
    fn states_organisations_and_statuses_are_known() {
        for code in ["AUT", "CZE", "D<<", "GBR", "UTO", "UNO", "XXA", "XXX", "EUE", "FRA"] {
            assert!(is_known(code), "{code}");
        }
    }

    #[test]
    fn other_letters_are_not() {
        for code in ["UT0", "ZZZ", "", "<<<", "AU", "DEUX", "555", "DD<"] {
            assert!(!is_known(code), "{code}");
        }
    }
}
