#include "supervisor/tls_material.h"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "supervisor/local_ca.h"

namespace {

namespace fs = std::filesystem;

struct TempDir {
  TempDir() {
    char name[] = "/tmp/portbroker-tls-unit-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

void write(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  chmod(path.c_str(), mode);
}

// A certificate for www.example.test (issued by a throwaway local CA) and its key, in PEM.
struct Pair {
  std::string cert;
  std::string key;
};

Pair make_pair(const std::string& dir) {
  supervisor::LocalCa ca(dir + "/ca", {"example.test"});
  std::string error;
  REQUIRE(ca.ensure(error));
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string public_pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  length = BIO_get_mem_data(bio, &data);
  std::string key_pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  EVP_PKEY_free(key);
  supervisor::LocalCa::Issued issued;
  REQUIRE(ca.issue("www.example.test", public_pem, issued, error));
  return {issued.cert_pem, key_pem};
}

policy::TlsSettings settings_for(const std::string& cert, const std::string& key) {
  policy::TlsSettings settings;
  settings.enabled = true;
  settings.certs.push_back({cert, key, "/tls"});
  return settings;
}

}  // namespace

TEST_CASE("the worker gets parsed and re-encoded material, never a file's own text") {
  TempDir keys;
  Pair pair = make_pair(keys.path);
  // Whatever else the files hold stays behind: comments, and a PEM block of
  // another kind hidden in the certificate file.
  write(keys.path + "/site.pem",
        "# SECRET-COMMENT\n" + pair.cert + "-----BEGIN PRIVATE KEY-----\nU0VDUkVULUJMT0NL\n-----END PRIVATE KEY-----\n",
        0644);
  write(keys.path + "/site.key", "SECRET-PREAMBLE\n" + pair.key, 0600);
  supervisor::TlsMaterial material;
  std::string error;
  REQUIRE_MESSAGE(supervisor::load_tls_material(settings_for(keys.path + "/site.pem", keys.path + "/site.key"),
                                                {{keys.path}, {}}, material, error),
                  error);
  CHECK(material.worker_json.find("SECRET") == std::string::npos);
  CHECK(material.worker_json.find("U0VDUkVULUJMT0NL") == std::string::npos);
  auto worker = nlohmann::json::parse(material.worker_json);
  // The leaf and the CA it chains to, as OpenSSL writes them.
  std::string chain = worker["certs"][0]["cert"];
  CHECK(chain.find("-----BEGIN CERTIFICATE-----") == 0);
  CHECK(chain.find("-----BEGIN CERTIFICATE-----", 1) != std::string::npos);
  CHECK(std::string(worker["certs"][0]["key"]).find("-----BEGIN PRIVATE KEY-----") == 0);
  CHECK(material.certificates[0].names == std::vector<std::string>{"www.example.test"});
}

TEST_CASE("key files are read only beneath a key directory, as regular files with safe modes") {
  TempDir keys;
  TempDir elsewhere;
  Pair pair = make_pair(elsewhere.path);
  write(keys.path + "/site.pem", pair.cert, 0644);
  write(keys.path + "/site.key", pair.key, 0600);
  write(elsewhere.path + "/outside.key", pair.key, 0600);
  policy::TlsSources sources{{keys.path}, {}};
  auto load = [&](const std::string& cert, const std::string& key) {
    supervisor::TlsMaterial material;
    std::string error;
    bool ok = supervisor::load_tls_material(settings_for(cert, key), sources, material, error);
    return ok ? std::string() : error;
  };
  CHECK(load(keys.path + "/site.pem", keys.path + "/site.key").empty());
  CHECK(load(keys.path + "/site.pem", elsewhere.path + "/outside.key").find("outside the key directories") !=
        std::string::npos);
  // A link inside the key directory to a file outside it is not followed.
  fs::create_symlink(elsewhere.path + "/outside.key", keys.path + "/link.key");
  CHECK(load(keys.path + "/site.pem", keys.path + "/link.key").find("is a symbolic link") != std::string::npos);
  // A FIFO would block a plain open; this one is refused at once.
  REQUIRE(mkfifo((keys.path + "/fifo.key").c_str(), 0600) == 0);
  CHECK(load(keys.path + "/site.pem", keys.path + "/fifo.key").find("not a regular file") != std::string::npos);
  // A key others can read, a certificate others can write.
  write(keys.path + "/open.key", pair.key, 0604);
  CHECK(load(keys.path + "/site.pem", keys.path + "/open.key").find("readable by every user") != std::string::npos);
  write(keys.path + "/writable.pem", pair.cert, 0666);
  CHECK(load(keys.path + "/writable.pem", keys.path + "/site.key").find("gives others too much") != std::string::npos);
  // Group read of a key is allowed (Debian's ssl-cert group convention).
  write(keys.path + "/group.key", pair.key, 0640);
  CHECK(load(keys.path + "/site.pem", keys.path + "/group.key").empty());
  // Oversized.
  write(keys.path + "/big.pem", std::string(70 * 1024, 'A'), 0644);
  CHECK(load(keys.path + "/big.pem", keys.path + "/site.key").find("larger than") != std::string::npos);
  // A key directory others may write to is refused whole.
  chmod(keys.path.c_str(), 0777);
  CHECK(load(keys.path + "/site.pem", keys.path + "/site.key").find("gives others too much") != std::string::npos);
  chmod(keys.path.c_str(), 0700);
}
