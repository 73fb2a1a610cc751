#pragma once
// gradcomp.Message as Python holds it: the C++ message, and what guards its bytes. Their buffer is
// lent without a copy (memoryview, numpy.frombuffer), so a message must not be encoded into (which
// may move the bytes) while a view is alive, nor read while another thread encodes into it.
#include <pybind11/pybind11.h>

#include "gradcomp/core/error.hpp"
#include "gradcomp/core/message.hpp"

namespace gradcomp::python {

struct PyMessage {
  Message message;
  Py_ssize_t views = 0;  // buffer exports alive, and decodes running with the GIL released
  bool writing = false;  // an encode into it runs (with the GIL released)

  // ValueError naming `what` unless the bytes may be read.
  void check_readable(const char* what) const {
    require(!writing, "{}: the message is being encoded into by another thread", what);
  }
  // ValueError naming `what` unless the bytes may be replaced.
  void check_writable(const char* what) const {
    check_readable(what);
    require(views == 0,
            "{}: {} view(s) of the message's bytes (memoryview, numpy.frombuffer) are alive; "
            "release them, or encode into a new message",
            what, views);
  }
};

// Marks a message as read for the lifetime of the object (made and destroyed with the GIL held).
class Reading {
 public:
  Reading(const PyMessage& m, const char* what) : m_(const_cast<PyMessage&>(m)) {
    m_.check_readable(what);
    ++m_.views;
  }
  ~Reading() { --m_.views; }
  Reading(const Reading&) = delete;
  Reading& operator=(const Reading&) = delete;

 private:
  PyMessage& m_;
};

// Marks a message as written for the lifetime of the object (made and destroyed with the GIL
// held).
class Writing {
 public:
  Writing(PyMessage& m, const char* what) : m_(m) {
    m_.check_writable(what);
    m_.writing = true;
  }
  ~Writing() { m_.writing = false; }
  Writing(const Writing&) = delete;
  Writing& operator=(const Writing&) = delete;

 private:
  PyMessage& m_;
};

}  // namespace gradcomp::python
