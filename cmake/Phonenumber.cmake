# libphonenumber as the IMPORTED target Phonenumber::phonenumber.
# The library is Debian's runtime package libphonenumber8; its headers come from the -dev package
# unpacked by scripts/install-deps.sh into IDP_PHONENUMBER_PREFIX (the -dev package itself cannot be
# installed beside Boost 1.81, TOOLCHAIN.md §6). The headers include a few Boost headers (1.81's
# serve), abseil's hash containers and protobuf's generated-code runtime.
set(IDP_PHONENUMBER_PREFIX "/opt/idp/phonenumber" CACHE PATH
    "Where scripts/install-deps.sh unpacked libphonenumber-dev")
find_path(PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h
  PATHS ${IDP_PHONENUMBER_PREFIX}/usr/include NO_DEFAULT_PATH)
find_path(PHONENUMBER_INCLUDE_DIR phonenumbers/phonenumberutil.h)
find_library(PHONENUMBER_LIBRARY NAMES libphonenumber.so.8 phonenumber)
if(NOT PHONENUMBER_INCLUDE_DIR OR NOT PHONENUMBER_LIBRARY)
  message(FATAL_ERROR "libphonenumber not found (headers: ${PHONENUMBER_INCLUDE_DIR}, "
                      "library: ${PHONENUMBER_LIBRARY}); run scripts/install-deps.sh")
endif()
find_package(absl CONFIG REQUIRED)
add_library(Phonenumber::phonenumber SHARED IMPORTED)
set_target_properties(Phonenumber::phonenumber PROPERTIES
  IMPORTED_LOCATION ${PHONENUMBER_LIBRARY}
  IMPORTED_NO_SONAME FALSE)
# SYSTEM: its headers are not ours and are compiled without our warnings.
target_include_directories(Phonenumber::phonenumber SYSTEM INTERFACE ${PHONENUMBER_INCLUDE_DIR})
target_link_libraries(Phonenumber::phonenumber INTERFACE protobuf::libprotobuf Boost::headers
  absl::node_hash_set absl::node_hash_map)
message(STATUS "libphonenumber: ${PHONENUMBER_LIBRARY} with headers in ${PHONENUMBER_INCLUDE_DIR}")
