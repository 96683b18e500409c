# shellcheck shell=bash
#
# Test certificates made with openssl at test time: a CA, and keys with
# certificates it signs.  All keys are EC P-256 and everything is valid
# for two days; the files are DIR/NAME.key and DIR/NAME.pem.

# tls_ca DIR NAME SUBJECT: a self-signed CA.
tls_ca()
{
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -days 2 -keyout "$1/$2.key" -out "$1/$2.pem" -subj "$3" \
	    2>/dev/null
}

# tls_cert DIR NAME CA SUBJECT [EXT...]: a key and a certificate signed
# by CA (made by tls_ca in DIR); each EXT is one line of its extensions
# ("subjectAltName=IP:127.0.0.1", "extendedKeyUsage=clientAuth").
tls_cert()
{
	local d=$1 n=$2 ca=$3 subj=$4

	shift 4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$d/$n.key" -subj "$subj" -out "$d/$n.csr" \
	    2>/dev/null || return 1
	printf '%s\n' "$@" >"$d/$n.ext"
	openssl x509 -req -in "$d/$n.csr" -CA "$d/$ca.pem" \
	    -CAkey "$d/$ca.key" -CAcreateserial -days 2 \
	    -extfile "$d/$n.ext" -out "$d/$n.pem" 2>/dev/null
}
