#include "gradcomp/comm/handshake.hpp"

#include <string_view>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

namespace {

// One field per line, "name\tvalue"; names and values never contain either separator.
std::string serialize(const std::vector<HandshakeField>& fields) {
  std::string text;
  for (const auto& field : fields) {
    require<InternalError>(field.name.find_first_of("\t\n") == std::string::npos &&
                               field.value.find_first_of("\t\n") == std::string::npos,
                           "handshake field '{}' contains a tab or a newline", field.name);
    text += field.name + '\t' + field.value + '\n';
  }
  return text;
}

std::vector<HandshakeField> parse(std::string_view text) {
  std::vector<HandshakeField> fields;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    const std::size_t tab = line.find('\t');
    fields.push_back({std::string(line.substr(0, tab)),
                      tab == std::string_view::npos ? "" : std::string(line.substr(tab + 1))});
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return fields;
}

void compare(const std::vector<HandshakeField>& reference, const std::vector<HandshakeField>& other,
             std::size_t rank) {
  for (std::size_t i = 0; i < reference.size() && i < other.size(); ++i) {
    if (reference[i].name != other[i].name) {
      throw AgreedError(fmt::format(
          "rank {} runs a different gradcomp than rank 0 (it states '{}' where rank 0 states "
          "'{}'); install the same build on every node",
          rank, other[i].name, reference[i].name));
    }
    if (reference[i].value != other[i].value) {
      throw AgreedError(fmt::format(
          "rank {} disagrees with rank 0 on the {}: '{}' on rank {}, '{}' on rank 0; start every "
          "rank with the same configuration and data",
          rank, reference[i].name, other[i].value, rank, reference[i].value));
    }
  }
  if (reference.size() != other.size()) {
    throw AgreedError(fmt::format(
        "rank {} states {} settings, rank 0 states {}; install the same build on every node", rank,
        other.size(), reference.size()));
  }
}

}  // namespace

void handshake(Communicator& communicator, const std::vector<HandshakeField>& fields) {
  const std::string mine = serialize(fields);
  const GatheredBytes all = communicator.allgather(
      std::span(reinterpret_cast<const std::uint8_t*>(mine.data()), mine.size()));
  auto text_of = [&](std::size_t rank) {
    const auto part = all.part(rank);
    return std::string_view(reinterpret_cast<const char*>(part.data()), part.size());
  };
  const std::vector<HandshakeField> reference = parse(text_of(0));
  for (std::size_t rank = 1; rank < communicator.size(); ++rank) {
    compare(reference, parse(text_of(rank)), rank);
  }
}

}  // namespace gradcomp
