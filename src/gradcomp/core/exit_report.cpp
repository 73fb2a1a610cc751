#include "gradcomp/core/exit_report.hpp"

#include <new>

#include "gradcomp/core/error.hpp"

namespace gradcomp {

ExitReport report_current_exception() {
  try {
    throw;
  } catch (const AgreedFailure& e) {
    return e.report();
  } catch (const AgreedError& e) {
    return {2, fmt::format("error: {}", e.what()), true};
  } catch (const InvalidInput& e) {
    return {2, fmt::format("error: {}", e.what())};
  } catch (const Interrupted& e) {
    return {130, e.what()};
  } catch (const IoError& e) {
    return {3, fmt::format("I/O error: {}", e.what())};
  } catch (const std::bad_alloc&) {
    return {3, "out of memory"};
  } catch (const std::exception& e) {
    return {70, fmt::format("internal error (please report): {}", e.what())};
  } catch (...) {
    return {70, "internal error (please report): unknown exception"};
  }
}

}  // namespace gradcomp
