//! Every formula of the Domino CertMgr seed DXL files, evaluated with
//! realistic field values.
//!
//! The formula texts below are copied verbatim (DXL entities and `<break/>`
//! decoded) from the Domino CertMgr DNS provider documents in
//! `shared/seed/dxl/dns-providers/**/*.dxl` and
//! `shared/seed/dxl/lab/acme/lab_certstore.dxl`, which are licensed under the
//! Apache License 2.0 (HCL Software, Domino CertMgr).

use certmgr_formula::{FieldMap, Fields, Formula, FormulaError, Value};

/// `StatusFormula` of `dns-providers/acmedns/certstore_acmedns.dxl`.
const ACMEDNS_STATUS_FORMULA: &str = r##"@if (retJSON_Add.txt = param_DnsTxtValue; 200; 400)"##;

/// `ReqAddUrlFormula` of `dns-providers/acmedns/certstore_acmedns.dxl`.
const ACMEDNS_REQ_ADD_URL_FORMULA: &str = r##"cfg_URL +"/update""##;

/// `ReqAddHeaderFormula` of `dns-providers/acmedns/certstore_acmedns.dxl`.
const ACMEDNS_REQ_ADD_HEADER_FORMULA: &str =
    r##"("X-Api-User: " + cfg_UserName) : ("X-Api-Key: " + cfg_Password)"##;

/// `ReqAddPostDataFormula` of `dns-providers/acmedns/certstore_acmedns.dxl`.
const ACMEDNS_REQ_ADD_POST_DATA_FORMULA: &str =
    r##"'{"subdomain": "' + cfg_DnsZone + '", "txt": "' + param_DnsTxtValue + '"}'"##;

/// `StatusFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_STATUS_FORMULA: &str = r##"@if (retJSON_Add.success = "true"; 200; 400)"##;

/// `ReqLookupUrlFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_LOOKUP_URL_FORMULA: &str =
    r##"@if (cfg_DnsZone = ""; cfg_URL + "?name="+param_RegisteredDomain; "")"##;

/// `ReqLookupHeaderFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_LOOKUP_HEADER_FORMULA: &str = r##"@if (cfg_AuthToken = ""; ("X-Auth-Email: " + cfg_InternetAddress) : ( "X-Auth-Key: " + cfg_AuthKey ); "Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqLookupCustomFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_LOOKUP_CUSTOM_FORMULA: &str = r##"@if (cfg_DnsZone = ""; @SetField ("cfg_DnsZone"; retJSON_Lookup.result.0.id ); ""); cfg_DnsZone"##;

/// `ReqAddUrlFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_ADD_URL_FORMULA: &str = r##"cfg_URL +"/"+ cfg_DnsZone + "/dns_records/""##;

/// `ReqAddHeaderFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_ADD_HEADER_FORMULA: &str = r##"@if (cfg_AuthToken = ""; ("X-Auth-Email: " + cfg_InternetAddress) : ( "X-Auth-Key: " + cfg_AuthKey ); "Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqAddPostDataFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_ADD_POST_DATA_FORMULA: &str = r##"'{"type":"TXT","name":"' + param_DnsTxtName+ '","content":"' + param_DnsTxtValue + '","ttl":120}'"##;

/// `ReqDelUrlFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_DEL_URL_FORMULA: &str = r##"@if (retJSON_Add.result.id = ""; ""; cfg_URL +"/"+ cfg_DnsZone + "/dns_records/" + retJSON_Add.result.id)"##;

/// `ReqDelHeaderFormula` of `dns-providers/cloudflare/certstore_cloudflare.dxl`.
const CLOUDFLARE_REQ_DEL_HEADER_FORMULA: &str = r##"@if (cfg_AuthToken = ""; ("X-Auth-Email: " + cfg_InternetAddress) : ( "X-Auth-Key: " + cfg_AuthKey ); "Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `StatusFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_STATUS_FORMULA: &str = r##"ret_AddStatus"##;

/// `ReqQryAddUrlFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_QRY_ADD_URL_FORMULA: &str = r##"FIELD param_subdomain:=@Left(param_DnsTxtName;"."+ param_RegisteredDomain);
cfg_URL + "/domains/" + param_RegisteredDomain + "/rrsets/" + param_subdomain + "/TXT/""##;

/// `ReqQryAddHeaderFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_QRY_ADD_HEADER_FORMULA: &str =
    r##"("Authorization: Token " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqAddUrlFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_ADD_URL_FORMULA: &str =
    r##"cfg_URL + "/domains/" + param_RegisteredDomain + "/rrsets/""##;

/// `ReqAddHeaderFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_ADD_HEADER_FORMULA: &str =
    r##"("Authorization: Token " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqAddPostDataFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_ADD_POST_DATA_FORMULA: &str = r##"FIELD param_QueryAddCurrentValue := @ReplaceSubString (retJSON_QryAdd.records; {"};{});

L:= @Trim (param_DnsTxtValue:param_QueryAddCurrentValue);
X:= @if (L=""; "";@Implode ({"\\"} + L + {\\""}; ", "));

'[{"subname":"' + param_subdomain + '","type":"TXT", "records": [' + X + '], "ttl":60}]'"##;

/// `ReqQryDelUrlFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_QRY_DEL_URL_FORMULA: &str =
    r##"cfg_URL + "/domains/" + param_RegisteredDomain + "/rrsets/" + param_subdomain + "/TXT/""##;

/// `ReqQryDelHeaderFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_QRY_DEL_HEADER_FORMULA: &str =
    r##"("Authorization: Token " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqDelUrlFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_DEL_URL_FORMULA: &str =
    r##"cfg_URL + "/domains/" + param_RegisteredDomain + "/rrsets/""##;

/// `ReqDelHeaderFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_DEL_HEADER_FORMULA: &str =
    r##"("Authorization: Token " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqDelPostDataFormula` of `dns-providers/desec/certstore_desec.dxl`.
const DESEC_REQ_DEL_POST_DATA_FORMULA: &str = r##"FIELD param_QueryDelCurrentValue := @ReplaceSubString (retJSON_QryDel.records; {"};{});
FIELD param_QueryDelNewValue := @Replace (param_QueryDelCurrentValue; param_DnsTxtValue; "");

L:= @Trim (param_QueryDelNewValue);
X:= @if (L=""; "";@Implode ({"\\"} + L + {\\""}; ", "));

'[{"subname":"' + param_subdomain + '","type":"TXT", "records": [' + X + '], "ttl":60}]'"##;

/// `StatusFormula` of `dns-providers/digitalocean/certstore_digitalocean.dxl`.
const DIGITALOCEAN_STATUS_FORMULA: &str = r##"@if (retJSON_Add.domain_record.id != ""; 200; 400)"##;

/// `ReqAddUrlFormula` of `dns-providers/digitalocean/certstore_digitalocean.dxl`.
const DIGITALOCEAN_REQ_ADD_URL_FORMULA: &str =
    r##"cfg_URL + "/" + param_RegisteredDomain +"/records""##;

/// `ReqAddHeaderFormula` of `dns-providers/digitalocean/certstore_digitalocean.dxl`.
const DIGITALOCEAN_REQ_ADD_HEADER_FORMULA: &str =
    r##"( "Content-Type: application/json" ) : ("Authorization: Bearer " + cfg_AuthToken )"##;

/// `ReqAddPostDataFormula` of `dns-providers/digitalocean/certstore_digitalocean.dxl`.
const DIGITALOCEAN_REQ_ADD_POST_DATA_FORMULA: &str = r##"'{"type":"TXT","name":"' + param_DnsTxtName+ '.","data":"' + param_DnsTxtValue + '","ttl":30}'"##;

/// `ReqDelUrlFormula` of `dns-providers/digitalocean/certstore_digitalocean.dxl`.
const DIGITALOCEAN_REQ_DEL_URL_FORMULA: &str = r##"ID_TXT:= @Text(retJSON_Add.domain_record.id); @if (ID_TXT= ""; ""; cfg_URL + "/" + param_RegisteredDomain + "/records/" + ID_TXT)"##;

/// `ReqDelHeaderFormula` of `dns-providers/digitalocean/certstore_digitalocean.dxl`.
const DIGITALOCEAN_REQ_DEL_HEADER_FORMULA: &str =
    r##"( "Content-Type: application/json" ) : ("Authorization: Bearer " + cfg_AuthToken )"##;

/// `StatusFormula` of `dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl`.
const HETZNER_CLOUD_STATUS_FORMULA: &str = r##"@if (ret_AddStatus = 201; 200; 400)"##;

/// `ReqAddUrlFormula` of `dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl`.
const HETZNER_CLOUD_REQ_ADD_URL_FORMULA: &str = r##"X:=@if (cfg_DnsZone = ""; param_RegisteredDomain; cfg_DnsZone);
cfg_URL + "/zones/" + X + "/rrsets/" + @Left(param_DnsTxtName;"."+ param_RegisteredDomain) + "/TXT/actions/add_records""##;

/// `ReqAddHeaderFormula` of `dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl`.
const HETZNER_CLOUD_REQ_ADD_HEADER_FORMULA: &str =
    r##"("Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqAddPostDataFormula` of `dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl`.
const HETZNER_CLOUD_REQ_ADD_POST_DATA_FORMULA: &str = r##"X:=@Left(param_DnsTxtName;"."+ param_RegisteredDomain);
'{"name":"' + X + '","type":"TXT","ttl":60,"records":[{"value": "\\"' + param_DnsTxtValue +'\\"","comment":"Created by Domino CertMgr"}]}'"##;

/// `ReqDelUrlFormula` of `dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl`.
const HETZNER_CLOUD_REQ_DEL_URL_FORMULA: &str = r##"X:=@if (cfg_DnsZone = ""; param_RegisteredDomain; cfg_DnsZone);
cfg_URL + "/zones/" + X + "/rrsets/" + @Left(param_DnsTxtName;"."+ param_RegisteredDomain) + "/TXT/actions/remove_records""##;

/// `ReqDelHeaderFormula` of `dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl`.
const HETZNER_CLOUD_REQ_DEL_HEADER_FORMULA: &str =
    r##"("Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqDelPostDataFormula` of `dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl`.
const HETZNER_CLOUD_REQ_DEL_POST_DATA_FORMULA: &str = r##"X:=@Left(param_DnsTxtName;"."+ param_RegisteredDomain);
'{"name":"' + X + '","type":"TXT","ttl":60,"records":[{"value": "\\"' + param_DnsTxtValue +'\\"","comment":"Created by Domino CertMgr"}]}'"##;

/// `StatusFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_STATUS_FORMULA: &str = r##"@if (retJSON_Add.record.id = ""; 400; 200)"##;

/// `ReqLookupUrlFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_LOOKUP_URL_FORMULA: &str =
    r##"@if (cfg_DnsZone = ""; cfg_URL + "/zones?name="+param_RegisteredDomain; "")"##;

/// `ReqLookupHeaderFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_LOOKUP_HEADER_FORMULA: &str =
    r##"("Auth-API-Token: " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqLookupCustomFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_LOOKUP_CUSTOM_FORMULA: &str =
    r##"@if (cfg_DnsZone = ""; @SetField ("cfg_DnsZone"; retJSON_Lookup.zones.0.id ); "");"##;

/// `ReqAddUrlFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_ADD_URL_FORMULA: &str = r##"cfg_URL +"/records""##;

/// `ReqAddHeaderFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_ADD_HEADER_FORMULA: &str =
    r##"("Auth-API-Token: " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqAddPostDataFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_ADD_POST_DATA_FORMULA: &str = r##"FIELD param_host:=@Left(param_DnsTxtName;"."+ param_RegisteredDomain);
'{"type":"TXT","name":"' + param_host + '","value":"' + param_DnsTxtValue +'","ttl":60, "zone_id":"' + cfg_DnsZone + '"}'"##;

/// `ReqDelUrlFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_DEL_URL_FORMULA: &str =
    r##"@if (retJSON_Add.record.id = ""; ""; cfg_URL +"/records/" + retJSON_Add.record.id)"##;

/// `ReqDelHeaderFormula` of `dns-providers/hetzner/legacy/certstore_hetzner.dxl`.
const HETZNER_LEGACY_REQ_DEL_HEADER_FORMULA: &str =
    r##"("Auth-API-Token: " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `StatusFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_STATUS_FORMULA: &str =
    r##"@if (ret_AddStatus >= 200 & ret_AddStatus < 300; 200; 400)"##;

/// `ReqQryAddUrlFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_REQ_QRY_ADD_URL_FORMULA: &str =
    r##"@If (""= cfg_DnsZone; cfg_URL + "/zones?filter.zoneName=" + param_RegisteredDomain; "")"##;

/// `ReqQryAddHeaderFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_REQ_QRY_ADD_HEADER_FORMULA: &str =
    r##"("Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqAddUrlFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_REQ_ADD_URL_FORMULA: &str = r##"ZoneID:=@If (cfg_DnsZone=""; retJSON_QryAdd.items.0.id; cfg_DnsZone);
cfg_URL + "/zones/" + ZoneID + "/records""##;

/// `ReqAddHeaderFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_REQ_ADD_HEADER_FORMULA: &str =
    r##"("Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `ReqAddPostDataFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_REQ_ADD_POST_DATA_FORMULA: &str = r##"X:=@Left(param_DnsTxtName;"."+ param_RegisteredDomain);
'{"properties": {"name":"' + X + '","type":"TXT","content": "\\"' + param_DnsTxtValue +'\\"","ttl":60,"enabled":true}}'"##;

/// `ReqDelUrlFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_REQ_DEL_URL_FORMULA: &str = r##"ZoneID:=@If (cfg_DnsZone=""; retJSON_QryAdd.items.0.id; cfg_DnsZone);
@if (retJSON_Add.id = ""; ""; cfg_URL + "/zones/" + ZoneID + "/records/" + retJSON_Add.id)"##;

/// `ReqDelHeaderFormula` of `dns-providers/ionos_cloud/certstore_ionos_cloud.dxl`.
const IONOS_REQ_DEL_HEADER_FORMULA: &str =
    r##"("Authorization: Bearer " + cfg_AuthToken ) : ( "Content-Type: application/json" )"##;

/// `StatusFormula` of `dns-providers/kapper/certstore_kapper.dxl`.
const KAPPER_STATUS_FORMULA: &str = r##"@if (retJSON_Add.OK = "false"; 400; 200)"##;

/// `ReqAddUrlFormula` of `dns-providers/kapper/certstore_kapper.dxl`.
const KAPPER_REQ_ADD_URL_FORMULA: &str = r##"cfg_URL + "/?action=new&subject=" + cfg_DnsZone + "&APIKey=" + cfg_AuthKey + "&APISecret=" + cfg_AuthToken + "&data=" + @URLEncode("Domino";"{\"name\":\"" + param_DnsTxtName + "\",\"type\":\"TXT\",\"content\":\"" + param_DnsTxtValue +"\",\"ttl\":\"60\",\"prio\":\"\"}")"##;

/// `ReqDelUrlFormula` of `dns-providers/kapper/certstore_kapper.dxl`.
const KAPPER_REQ_DEL_URL_FORMULA: &str = r##"cfg_URL + "/?action=del&subject=" + param_DnsTxtName + "&APIKey=" + cfg_AuthKey + "&APISecret=" + cfg_AuthToken"##;

/// `StatusFormula` of `lab/acme/lab_certstore.dxl`.
const LAB_STATUS_FORMULA: &str = r##"ret_AddStatus"##;

/// `ReqAddUrlFormula` of `lab/acme/lab_certstore.dxl`.
const LAB_REQ_ADD_URL_FORMULA: &str = r##"cfg_URL"##;

/// `ReqAddPostDataFormula` of `lab/acme/lab_certstore.dxl`.
const LAB_REQ_ADD_POST_DATA_FORMULA: &str =
    r##"'{"host":"' + param_DnsTxtName + '.", "value": "' + param_DnsTxtValue +'"}'"##;

/// Every non-empty formula item of the seed DXL files: (file, item, source).
const ALL: &[(&str, &str, &str)] = &[
    (
        "dns-providers/acmedns/certstore_acmedns.dxl",
        "StatusFormula",
        ACMEDNS_STATUS_FORMULA,
    ),
    (
        "dns-providers/acmedns/certstore_acmedns.dxl",
        "ReqAddUrlFormula",
        ACMEDNS_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/acmedns/certstore_acmedns.dxl",
        "ReqAddHeaderFormula",
        ACMEDNS_REQ_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/acmedns/certstore_acmedns.dxl",
        "ReqAddPostDataFormula",
        ACMEDNS_REQ_ADD_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "StatusFormula",
        CLOUDFLARE_STATUS_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqLookupUrlFormula",
        CLOUDFLARE_REQ_LOOKUP_URL_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqLookupHeaderFormula",
        CLOUDFLARE_REQ_LOOKUP_HEADER_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqLookupCustomFormula",
        CLOUDFLARE_REQ_LOOKUP_CUSTOM_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqAddUrlFormula",
        CLOUDFLARE_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqAddHeaderFormula",
        CLOUDFLARE_REQ_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqAddPostDataFormula",
        CLOUDFLARE_REQ_ADD_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqDelUrlFormula",
        CLOUDFLARE_REQ_DEL_URL_FORMULA,
    ),
    (
        "dns-providers/cloudflare/certstore_cloudflare.dxl",
        "ReqDelHeaderFormula",
        CLOUDFLARE_REQ_DEL_HEADER_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "StatusFormula",
        DESEC_STATUS_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqQryAddUrlFormula",
        DESEC_REQ_QRY_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqQryAddHeaderFormula",
        DESEC_REQ_QRY_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqAddUrlFormula",
        DESEC_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqAddHeaderFormula",
        DESEC_REQ_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqAddPostDataFormula",
        DESEC_REQ_ADD_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqQryDelUrlFormula",
        DESEC_REQ_QRY_DEL_URL_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqQryDelHeaderFormula",
        DESEC_REQ_QRY_DEL_HEADER_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqDelUrlFormula",
        DESEC_REQ_DEL_URL_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqDelHeaderFormula",
        DESEC_REQ_DEL_HEADER_FORMULA,
    ),
    (
        "dns-providers/desec/certstore_desec.dxl",
        "ReqDelPostDataFormula",
        DESEC_REQ_DEL_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/digitalocean/certstore_digitalocean.dxl",
        "StatusFormula",
        DIGITALOCEAN_STATUS_FORMULA,
    ),
    (
        "dns-providers/digitalocean/certstore_digitalocean.dxl",
        "ReqAddUrlFormula",
        DIGITALOCEAN_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/digitalocean/certstore_digitalocean.dxl",
        "ReqAddHeaderFormula",
        DIGITALOCEAN_REQ_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/digitalocean/certstore_digitalocean.dxl",
        "ReqAddPostDataFormula",
        DIGITALOCEAN_REQ_ADD_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/digitalocean/certstore_digitalocean.dxl",
        "ReqDelUrlFormula",
        DIGITALOCEAN_REQ_DEL_URL_FORMULA,
    ),
    (
        "dns-providers/digitalocean/certstore_digitalocean.dxl",
        "ReqDelHeaderFormula",
        DIGITALOCEAN_REQ_DEL_HEADER_FORMULA,
    ),
    (
        "dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl",
        "StatusFormula",
        HETZNER_CLOUD_STATUS_FORMULA,
    ),
    (
        "dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl",
        "ReqAddUrlFormula",
        HETZNER_CLOUD_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl",
        "ReqAddHeaderFormula",
        HETZNER_CLOUD_REQ_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl",
        "ReqAddPostDataFormula",
        HETZNER_CLOUD_REQ_ADD_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl",
        "ReqDelUrlFormula",
        HETZNER_CLOUD_REQ_DEL_URL_FORMULA,
    ),
    (
        "dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl",
        "ReqDelHeaderFormula",
        HETZNER_CLOUD_REQ_DEL_HEADER_FORMULA,
    ),
    (
        "dns-providers/hetzner/certstore_hetzner_dns_cloud.dxl",
        "ReqDelPostDataFormula",
        HETZNER_CLOUD_REQ_DEL_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "StatusFormula",
        HETZNER_LEGACY_STATUS_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqLookupUrlFormula",
        HETZNER_LEGACY_REQ_LOOKUP_URL_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqLookupHeaderFormula",
        HETZNER_LEGACY_REQ_LOOKUP_HEADER_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqLookupCustomFormula",
        HETZNER_LEGACY_REQ_LOOKUP_CUSTOM_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqAddUrlFormula",
        HETZNER_LEGACY_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqAddHeaderFormula",
        HETZNER_LEGACY_REQ_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqAddPostDataFormula",
        HETZNER_LEGACY_REQ_ADD_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqDelUrlFormula",
        HETZNER_LEGACY_REQ_DEL_URL_FORMULA,
    ),
    (
        "dns-providers/hetzner/legacy/certstore_hetzner.dxl",
        "ReqDelHeaderFormula",
        HETZNER_LEGACY_REQ_DEL_HEADER_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "StatusFormula",
        IONOS_STATUS_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "ReqQryAddUrlFormula",
        IONOS_REQ_QRY_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "ReqQryAddHeaderFormula",
        IONOS_REQ_QRY_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "ReqAddUrlFormula",
        IONOS_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "ReqAddHeaderFormula",
        IONOS_REQ_ADD_HEADER_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "ReqAddPostDataFormula",
        IONOS_REQ_ADD_POST_DATA_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "ReqDelUrlFormula",
        IONOS_REQ_DEL_URL_FORMULA,
    ),
    (
        "dns-providers/ionos_cloud/certstore_ionos_cloud.dxl",
        "ReqDelHeaderFormula",
        IONOS_REQ_DEL_HEADER_FORMULA,
    ),
    (
        "dns-providers/kapper/certstore_kapper.dxl",
        "StatusFormula",
        KAPPER_STATUS_FORMULA,
    ),
    (
        "dns-providers/kapper/certstore_kapper.dxl",
        "ReqAddUrlFormula",
        KAPPER_REQ_ADD_URL_FORMULA,
    ),
    (
        "dns-providers/kapper/certstore_kapper.dxl",
        "ReqDelUrlFormula",
        KAPPER_REQ_DEL_URL_FORMULA,
    ),
    (
        "lab/acme/lab_certstore.dxl",
        "StatusFormula",
        LAB_STATUS_FORMULA,
    ),
    (
        "lab/acme/lab_certstore.dxl",
        "ReqAddUrlFormula",
        LAB_REQ_ADD_URL_FORMULA,
    ),
    (
        "lab/acme/lab_certstore.dxl",
        "ReqAddPostDataFormula",
        LAB_REQ_ADD_POST_DATA_FORMULA,
    ),
];

/// Hide-when formulas of the same files (`<code event='hidewhen'>`).
const DESEC_HIDEWHEN: &str = r#"REM {DNT Begin}; DnsProviderType != "H""#;
const LAB_HIDEWHEN: &str = r#"FP_Server_Scope = "1""#;

fn t(s: &str) -> Value {
    Value::text(s)
}

fn list(items: &[&str]) -> Value {
    Value::Text(items.iter().map(|s| s.to_string()).collect())
}

fn doc(fields: &[(&str, Value)]) -> FieldMap {
    let mut map = FieldMap::new();
    for (name, value) in fields {
        map.insert(name, value.clone());
    }
    map
}

fn run(source: &str, item: &str, fields: &mut FieldMap) -> Value {
    Formula::parse(source, item)
        .unwrap_or_else(|e| panic!("{e}"))
        .eval(fields)
        .unwrap_or_else(|e| panic!("{e}"))
}

fn try_run(source: &str, item: &str, fields: &mut FieldMap) -> Result<Value, FormulaError> {
    Formula::parse(source, item)?.eval(fields)
}

/// The fields every provider document gets from CertMgr for one challenge.
fn challenge(cfg_url: &str) -> Vec<(&'static str, Value)> {
    vec![
        ("cfg_URL", Value::text(cfg_url)),
        ("param_DnsTxtName", t("_acme-challenge.www.example.com")),
        ("param_RegisteredDomain", t("example.com")),
        ("param_DnsTxtValue", t("VALUE")),
        ("cfg_AuthToken", t("tok")),
        ("cfg_AuthKey", t("key")),
        ("cfg_InternetAddress", t("admin@example.com")),
        ("cfg_UserName", t("user")),
        ("cfg_Password", t("pass")),
    ]
}

#[test]
fn every_seed_formula_parses_and_evaluates() {
    assert_eq!(ALL.len(), 60);
    for (file, item, source) in ALL.iter().chain(&[
        (
            "dns-providers/desec/certstore_desec.dxl",
            "hidewhen",
            DESEC_HIDEWHEN,
        ),
        ("lab/acme/lab_certstore.dxl", "hidewhen", LAB_HIDEWHEN),
    ]) {
        let formula = Formula::parse(source, item).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut fields = doc(&challenge("https://api.example.net"));
        fields.insert("ret_AddStatus", Value::number(201.0));
        formula
            .eval(&mut fields)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

#[test]
fn acmedns() {
    let mut d = doc(&challenge("https://auth.mydomain.com:444"));
    d.insert("cfg_DnsZone", t("d420c923-bbd7-4056-ab64-c3ca54c9b3cf"));
    assert_eq!(
        run(ACMEDNS_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t("https://auth.mydomain.com:444/update")
    );
    assert_eq!(
        run(
            ACMEDNS_REQ_ADD_HEADER_FORMULA,
            "ReqAddHeaderFormula",
            &mut d
        ),
        list(&["X-Api-User: user", "X-Api-Key: pass"])
    );
    assert_eq!(
        run(
            ACMEDNS_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(r#"{"subdomain": "d420c923-bbd7-4056-ab64-c3ca54c9b3cf", "txt": "VALUE"}"#)
    );
    d.insert("retJSON_Add.txt", t("VALUE"));
    assert_eq!(
        run(ACMEDNS_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
    d.insert("retJSON_Add.txt", t("OTHER"));
    assert_eq!(
        run(ACMEDNS_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(400.0)
    );
}

#[test]
fn cloudflare_with_api_key_and_zone_lookup() {
    let mut d = doc(&challenge("https://api.cloudflare.com/client/v4/zones"));
    d.insert("cfg_AuthToken", t(""));
    d.insert("cfg_DnsZone", t(""));
    assert_eq!(
        run(
            CLOUDFLARE_REQ_LOOKUP_URL_FORMULA,
            "ReqLookupUrlFormula",
            &mut d
        ),
        t("https://api.cloudflare.com/client/v4/zones?name=example.com")
    );
    let api_key_headers = list(&[
        "X-Auth-Email: admin@example.com",
        "X-Auth-Key: key",
        "Content-Type: application/json",
    ]);
    for source in [
        CLOUDFLARE_REQ_LOOKUP_HEADER_FORMULA,
        CLOUDFLARE_REQ_ADD_HEADER_FORMULA,
        CLOUDFLARE_REQ_DEL_HEADER_FORMULA,
    ] {
        assert_eq!(run(source, "ReqAddHeaderFormula", &mut d), api_key_headers);
    }
    // The lookup answer fills in the zone id, written back to the document.
    d.insert(
        "retJSON_Lookup.result.0.id",
        t("023e105f4ecef8ad9ca31a8372d0c353"),
    );
    assert_eq!(
        run(
            CLOUDFLARE_REQ_LOOKUP_CUSTOM_FORMULA,
            "ReqLookupCustomFormula",
            &mut d
        ),
        t("023e105f4ecef8ad9ca31a8372d0c353")
    );
    assert_eq!(
        d.get("cfg_dnszone"),
        Some(t("023e105f4ecef8ad9ca31a8372d0c353"))
    );
    // Once the zone is known, no lookup URL.
    assert_eq!(
        run(
            CLOUDFLARE_REQ_LOOKUP_URL_FORMULA,
            "ReqLookupUrlFormula",
            &mut d
        ),
        t("")
    );
    assert_eq!(
        run(CLOUDFLARE_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t(
            "https://api.cloudflare.com/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records/"
        )
    );
    assert_eq!(
        run(
            CLOUDFLARE_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(r#"{"type":"TXT","name":"_acme-challenge.www.example.com","content":"VALUE","ttl":120}"#)
    );
    // No record id yet (absent field reads as ""): no delete URL.
    assert_eq!(
        run(CLOUDFLARE_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t("")
    );
    d.insert(
        "retJSON_Add.result.id",
        t("372e67954025e0ba6aaa6d586b9e0b59"),
    );
    assert_eq!(
        run(CLOUDFLARE_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t(
            "https://api.cloudflare.com/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records/372e67954025e0ba6aaa6d586b9e0b59"
        )
    );
    d.insert("retJSON_Add.success", t("true"));
    assert_eq!(
        run(CLOUDFLARE_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
    d.insert("retJSON_Add.success", t("false"));
    assert_eq!(
        run(CLOUDFLARE_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(400.0)
    );
}

#[test]
fn cloudflare_with_token_and_known_zone() {
    let mut d = doc(&challenge("https://api.cloudflare.com/client/v4/zones"));
    d.insert("cfg_DnsZone", t("ZONE"));
    assert_eq!(
        run(
            CLOUDFLARE_REQ_ADD_HEADER_FORMULA,
            "ReqAddHeaderFormula",
            &mut d
        ),
        list(&[
            "Authorization: Bearer tok",
            "Content-Type: application/json"
        ])
    );
    // The custom formula keeps a configured zone and returns it.
    d.insert("retJSON_Lookup.result.0.id", t("IGNORED"));
    assert_eq!(
        run(
            CLOUDFLARE_REQ_LOOKUP_CUSTOM_FORMULA,
            "ReqLookupCustomFormula",
            &mut d
        ),
        t("ZONE")
    );
    assert_eq!(d.get("cfg_DnsZone"), Some(t("ZONE")));
}

/// The deSEC formulas, run in the order CertMgr runs them on one document.
#[test]
fn desec_add_and_delete_flow() {
    let mut d = doc(&challenge("https://desec.io/api/v1"));
    d.insert("ret_AddStatus", Value::number(200.0));
    assert_eq!(
        run(DESEC_REQ_QRY_ADD_URL_FORMULA, "ReqQryAddUrlFormula", &mut d),
        t("https://desec.io/api/v1/domains/example.com/rrsets/_acme-challenge.www/TXT/")
    );
    assert_eq!(d.get("param_subdomain"), Some(t("_acme-challenge.www")));
    for source in [
        DESEC_REQ_QRY_ADD_HEADER_FORMULA,
        DESEC_REQ_ADD_HEADER_FORMULA,
        DESEC_REQ_QRY_DEL_HEADER_FORMULA,
        DESEC_REQ_DEL_HEADER_FORMULA,
    ] {
        assert_eq!(
            run(source, "ReqAddHeaderFormula", &mut d),
            list(&["Authorization: Token tok", "Content-Type: application/json"])
        );
    }
    assert_eq!(
        run(DESEC_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t("https://desec.io/api/v1/domains/example.com/rrsets/")
    );
    // No existing RRset: the query answer has no records.
    assert_eq!(
        run(
            DESEC_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(
            r#"[{"subname":"_acme-challenge.www","type":"TXT", "records": ["\"VALUE\""], "ttl":60}]"#
        )
    );
    assert_eq!(d.get("param_QueryAddCurrentValue"), Some(t("")));
    assert_eq!(
        run(DESEC_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
    assert_eq!(
        run(DESEC_REQ_QRY_DEL_URL_FORMULA, "ReqQryDelUrlFormula", &mut d),
        t("https://desec.io/api/v1/domains/example.com/rrsets/_acme-challenge.www/TXT/")
    );
    assert_eq!(
        run(DESEC_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t("https://desec.io/api/v1/domains/example.com/rrsets/")
    );
    // Delete: the RRset holds our value and another one; ours is dropped.
    d.insert("retJSON_QryDel.records", list(&["\"VALUE\"", "\"OTHER\""]));
    assert_eq!(
        run(
            DESEC_REQ_DEL_POST_DATA_FORMULA,
            "ReqDelPostDataFormula",
            &mut d
        ),
        t(
            r#"[{"subname":"_acme-challenge.www","type":"TXT", "records": ["\"OTHER\""], "ttl":60}]"#
        )
    );
    assert_eq!(
        d.get("param_QueryDelCurrentValue"),
        Some(list(&["VALUE", "OTHER"]))
    );
    assert_eq!(d.get("param_QueryDelNewValue"), Some(list(&["", "OTHER"])));
    // Only our value: an empty record list deletes the RRset.
    d.insert("retJSON_QryDel.records", list(&["\"VALUE\""]));
    assert_eq!(
        run(
            DESEC_REQ_DEL_POST_DATA_FORMULA,
            "ReqDelPostDataFormula",
            &mut d
        ),
        t(r#"[{"subname":"_acme-challenge.www","type":"TXT", "records": [], "ttl":60}]"#)
    );
}

#[test]
fn desec_add_keeps_existing_values() {
    let mut d = doc(&challenge("https://desec.io/api/v1"));
    d.insert("param_subdomain", t("_acme-challenge.www"));
    d.insert("retJSON_QryAdd.records", list(&["\"OLD1\"", "\"OLD2\""]));
    assert_eq!(
        run(
            DESEC_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(
            r#"[{"subname":"_acme-challenge.www","type":"TXT", "records": ["\"VALUE\"", "\"OLD1\"", "\"OLD2\""], "ttl":60}]"#
        )
    );
    assert_eq!(
        d.get("param_queryaddcurrentvalue"),
        Some(list(&["OLD1", "OLD2"]))
    );
}

#[test]
fn digitalocean() {
    let mut d = doc(&challenge("https://api.digitalocean.com/v2/domains"));
    assert_eq!(
        run(DIGITALOCEAN_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t("https://api.digitalocean.com/v2/domains/example.com/records")
    );
    for source in [
        DIGITALOCEAN_REQ_ADD_HEADER_FORMULA,
        DIGITALOCEAN_REQ_DEL_HEADER_FORMULA,
    ] {
        assert_eq!(
            run(source, "ReqAddHeaderFormula", &mut d),
            list(&[
                "Content-Type: application/json",
                "Authorization: Bearer tok"
            ])
        );
    }
    assert_eq!(
        run(
            DIGITALOCEAN_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(r#"{"type":"TXT","name":"_acme-challenge.www.example.com.","data":"VALUE","ttl":30}"#)
    );
    // Before the record exists.
    assert_eq!(
        run(DIGITALOCEAN_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(400.0)
    );
    assert_eq!(
        run(DIGITALOCEAN_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t("")
    );
    // JSON scalars stored as text.
    d.insert("retJSON_Add.domain_record.id", t("28448429"));
    assert_eq!(
        run(DIGITALOCEAN_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
    assert_eq!(
        run(DIGITALOCEAN_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t("https://api.digitalocean.com/v2/domains/example.com/records/28448429")
    );
    // A number id works with @Text, but `!= ""` on a number is a type error,
    // as in Notes: JSON values must reach these formulas as text.
    d.insert("retJSON_Add.domain_record.id", Value::number(28448429.0));
    assert_eq!(
        run(DIGITALOCEAN_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t("https://api.digitalocean.com/v2/domains/example.com/records/28448429")
    );
    let err = try_run(DIGITALOCEAN_STATUS_FORMULA, "StatusFormula", &mut d).unwrap_err();
    assert_eq!((err.line, err.column), (1, 35));
    assert!(
        err.message.contains("cannot compare text with a number"),
        "{err}"
    );
}

#[test]
fn hetzner_dns_cloud() {
    let mut d = doc(&challenge("https://api.hetzner.cloud/v1"));
    d.insert("cfg_DnsZone", t(""));
    assert_eq!(
        run(
            HETZNER_CLOUD_REQ_ADD_URL_FORMULA,
            "ReqAddUrlFormula",
            &mut d
        ),
        t(
            "https://api.hetzner.cloud/v1/zones/example.com/rrsets/_acme-challenge.www/TXT/actions/add_records"
        )
    );
    assert_eq!(
        run(
            HETZNER_CLOUD_REQ_DEL_URL_FORMULA,
            "ReqDelUrlFormula",
            &mut d
        ),
        t(
            "https://api.hetzner.cloud/v1/zones/example.com/rrsets/_acme-challenge.www/TXT/actions/remove_records"
        )
    );
    d.insert("cfg_DnsZone", t("4711"));
    assert_eq!(
        run(
            HETZNER_CLOUD_REQ_ADD_URL_FORMULA,
            "ReqAddUrlFormula",
            &mut d
        ),
        t(
            "https://api.hetzner.cloud/v1/zones/4711/rrsets/_acme-challenge.www/TXT/actions/add_records"
        )
    );
    let body = t(
        r#"{"name":"_acme-challenge.www","type":"TXT","ttl":60,"records":[{"value": "\"VALUE\"","comment":"Created by Domino CertMgr"}]}"#,
    );
    assert_eq!(
        run(
            HETZNER_CLOUD_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        body
    );
    assert_eq!(
        run(
            HETZNER_CLOUD_REQ_DEL_POST_DATA_FORMULA,
            "ReqDelPostDataFormula",
            &mut d
        ),
        body
    );
    for source in [
        HETZNER_CLOUD_REQ_ADD_HEADER_FORMULA,
        HETZNER_CLOUD_REQ_DEL_HEADER_FORMULA,
    ] {
        assert_eq!(
            run(source, "ReqAddHeaderFormula", &mut d),
            list(&[
                "Authorization: Bearer tok",
                "Content-Type: application/json"
            ])
        );
    }
    d.insert("ret_AddStatus", Value::number(201.0));
    assert_eq!(
        run(HETZNER_CLOUD_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
    d.insert("ret_AddStatus", Value::number(422.0));
    assert_eq!(
        run(HETZNER_CLOUD_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(400.0)
    );
}

#[test]
fn hetzner_legacy() {
    let mut d = doc(&challenge("https://dns.hetzner.com/api/v1"));
    assert_eq!(
        run(
            HETZNER_LEGACY_REQ_LOOKUP_URL_FORMULA,
            "ReqLookupUrlFormula",
            &mut d
        ),
        t("https://dns.hetzner.com/api/v1/zones?name=example.com")
    );
    for source in [
        HETZNER_LEGACY_REQ_LOOKUP_HEADER_FORMULA,
        HETZNER_LEGACY_REQ_ADD_HEADER_FORMULA,
        HETZNER_LEGACY_REQ_DEL_HEADER_FORMULA,
    ] {
        assert_eq!(
            run(source, "ReqAddHeaderFormula", &mut d),
            list(&["Auth-API-Token: tok", "Content-Type: application/json"])
        );
    }
    d.insert("retJSON_Lookup.zones.0.id", t("HZID"));
    assert_eq!(
        run(
            HETZNER_LEGACY_REQ_LOOKUP_CUSTOM_FORMULA,
            "ReqLookupCustomFormula",
            &mut d
        ),
        t("HZID")
    );
    assert_eq!(d.get("cfg_DnsZone"), Some(t("HZID")));
    assert_eq!(
        run(
            HETZNER_LEGACY_REQ_ADD_URL_FORMULA,
            "ReqAddUrlFormula",
            &mut d
        ),
        t("https://dns.hetzner.com/api/v1/records")
    );
    assert_eq!(
        run(
            HETZNER_LEGACY_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(
            r#"{"type":"TXT","name":"_acme-challenge.www","value":"VALUE","ttl":60, "zone_id":"HZID"}"#
        )
    );
    assert_eq!(d.get("param_host"), Some(t("_acme-challenge.www")));
    assert_eq!(
        run(HETZNER_LEGACY_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(400.0)
    );
    assert_eq!(
        run(
            HETZNER_LEGACY_REQ_DEL_URL_FORMULA,
            "ReqDelUrlFormula",
            &mut d
        ),
        t("")
    );
    d.insert("retJSON_Add.record.id", t("R1"));
    assert_eq!(
        run(HETZNER_LEGACY_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
    assert_eq!(
        run(
            HETZNER_LEGACY_REQ_DEL_URL_FORMULA,
            "ReqDelUrlFormula",
            &mut d
        ),
        t("https://dns.hetzner.com/api/v1/records/R1")
    );
}

#[test]
fn ionos_cloud() {
    let mut d = doc(&challenge("https://dns.de-fra.ionos.com"));
    assert_eq!(
        run(IONOS_REQ_QRY_ADD_URL_FORMULA, "ReqQryAddUrlFormula", &mut d),
        t("https://dns.de-fra.ionos.com/zones?filter.zoneName=example.com")
    );
    d.insert("retJSON_QryAdd.items.0.id", t("Z-1"));
    assert_eq!(
        run(IONOS_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t("https://dns.de-fra.ionos.com/zones/Z-1/records")
    );
    assert_eq!(
        run(
            IONOS_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(
            r#"{"properties": {"name":"_acme-challenge.www","type":"TXT","content": "\"VALUE\"","ttl":60,"enabled":true}}"#
        )
    );
    assert_eq!(
        run(IONOS_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t("")
    );
    d.insert("retJSON_Add.id", t("REC-9"));
    assert_eq!(
        run(IONOS_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t("https://dns.de-fra.ionos.com/zones/Z-1/records/REC-9")
    );
    for source in [
        IONOS_REQ_QRY_ADD_HEADER_FORMULA,
        IONOS_REQ_ADD_HEADER_FORMULA,
        IONOS_REQ_DEL_HEADER_FORMULA,
    ] {
        assert_eq!(
            run(source, "ReqAddHeaderFormula", &mut d),
            list(&[
                "Authorization: Bearer tok",
                "Content-Type: application/json"
            ])
        );
    }
    // A configured zone wins over the query answer.
    d.insert("cfg_DnsZone", t("Z-CFG"));
    assert_eq!(
        run(IONOS_REQ_QRY_ADD_URL_FORMULA, "ReqQryAddUrlFormula", &mut d),
        t("")
    );
    assert_eq!(
        run(IONOS_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t("https://dns.de-fra.ionos.com/zones/Z-CFG/records")
    );
    for (status, expected) in [
        (199.0, 400.0),
        (200.0, 200.0),
        (202.0, 200.0),
        (299.0, 200.0),
        (300.0, 400.0),
    ] {
        d.insert("ret_AddStatus", Value::number(status));
        assert_eq!(
            run(IONOS_STATUS_FORMULA, "StatusFormula", &mut d),
            Value::number(expected),
            "status {status}"
        );
    }
}

#[test]
fn kapper() {
    let mut d = doc(&challenge("https://dnspanel.kapper.net/API/1.2"));
    d.insert("cfg_DnsZone", t("example.com"));
    assert_eq!(
        run(KAPPER_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t(concat!(
            "https://dnspanel.kapper.net/API/1.2/?action=new&subject=example.com&APIKey=key&APISecret=tok&data=",
            "%7B%22name%22%3A%22_acme-challenge.www.example.com%22%2C%22type%22%3A%22TXT%22%2C",
            "%22content%22%3A%22VALUE%22%2C%22ttl%22%3A%2260%22%2C%22prio%22%3A%22%22%7D"
        ))
    );
    assert_eq!(
        run(KAPPER_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula", &mut d),
        t(
            "https://dnspanel.kapper.net/API/1.2/?action=del&subject=_acme-challenge.www.example.com&APIKey=key&APISecret=tok"
        )
    );
    assert_eq!(
        run(KAPPER_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
    d.insert("retJSON_Add.OK", t("false"));
    assert_eq!(
        run(KAPPER_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(400.0)
    );
    d.insert("retJSON_Add.OK", t("true"));
    assert_eq!(
        run(KAPPER_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
}

#[test]
fn lab() {
    let mut d = doc(&challenge("http://127.0.0.1:8055/set-txt"));
    d.insert("ret_AddStatus", Value::number(200.0));
    assert_eq!(
        run(LAB_REQ_ADD_URL_FORMULA, "ReqAddUrlFormula", &mut d),
        t("http://127.0.0.1:8055/set-txt")
    );
    assert_eq!(
        run(
            LAB_REQ_ADD_POST_DATA_FORMULA,
            "ReqAddPostDataFormula",
            &mut d
        ),
        t(r#"{"host":"_acme-challenge.www.example.com.", "value": "VALUE"}"#)
    );
    assert_eq!(
        run(LAB_STATUS_FORMULA, "StatusFormula", &mut d),
        Value::number(200.0)
    );
}

#[test]
fn hide_when_formulas() {
    let mut d = doc(&[("DnsProviderType", t("H"))]);
    assert_eq!(run(DESEC_HIDEWHEN, "hidewhen", &mut d), Value::number(0.0));
    d.insert("DnsProviderType", t("A"));
    assert_eq!(run(DESEC_HIDEWHEN, "hidewhen", &mut d), Value::number(1.0));
    let mut d = doc(&[("FP_Server_Scope", t("1"))]);
    assert_eq!(run(LAB_HIDEWHEN, "hidewhen", &mut d), Value::number(1.0));
    let mut d = FieldMap::new();
    assert_eq!(run(LAB_HIDEWHEN, "hidewhen", &mut d), Value::number(0.0));
}

#[test]
fn seed_field_references() {
    let f = Formula::parse(DESEC_REQ_ADD_POST_DATA_FORMULA, "ReqAddPostDataFormula").unwrap();
    assert_eq!(
        f.field_references(),
        vec![
            "retjson_qryadd.records",
            "param_dnstxtvalue",
            "param_queryaddcurrentvalue",
            "param_subdomain",
        ]
    );
    let f = Formula::parse(CLOUDFLARE_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula").unwrap();
    assert_eq!(
        f.field_references(),
        vec!["retjson_add.result.id", "cfg_url", "cfg_dnszone"]
    );
    let f = Formula::parse(DIGITALOCEAN_REQ_DEL_URL_FORMULA, "ReqDelUrlFormula").unwrap();
    assert_eq!(
        f.field_references(),
        vec![
            "retjson_add.domain_record.id",
            "cfg_url",
            "param_registereddomain"
        ]
    );
}
