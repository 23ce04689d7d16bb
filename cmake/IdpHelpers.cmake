# idp_library(NAME <name> SOURCES ... DEPS ...): libs/<name> -> target idp_<name>, alias idp::<name>.
function(idp_library)
  cmake_parse_arguments(A "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(idp_${A_NAME} STATIC ${A_SOURCES})
  add_library(idp::${A_NAME} ALIAS idp_${A_NAME})
  target_include_directories(idp_${A_NAME} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include)
  target_compile_options(idp_${A_NAME} PRIVATE ${IDP_WARNINGS})
  target_link_libraries(idp_${A_NAME} PUBLIC ${A_PUBLIC_DEPS} PRIVATE ${A_PRIVATE_DEPS})
endfunction()

# idp_test(NAME <target> SOURCES ... DEPS ... LABELS ...): a Catch2 binary registered with ctest.
# Tests labelled "db" need IDP_TEST_PG_DSN / IDP_TEST_REDIS_URL (set by scripts/test.sh).
function(idp_test)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT IDP_BUILD_TESTS)
    return()
  endif()
  add_executable(${A_NAME} ${A_SOURCES})
  target_compile_options(${A_NAME} PRIVATE ${IDP_WARNINGS})
  target_link_libraries(${A_NAME} PRIVATE idp_catch_main ${A_DEPS})
  if(NOT A_LABELS)
    set(A_LABELS unit)
  endif()
  catch_discover_tests(${A_NAME} PROPERTIES LABELS "${A_LABELS}")
endfunction()

# idp_embed_migrations(<target> <schema> <dir>): compiles <dir>/NNNN_<what>.sql into the target
# as `idp::store::MigrationSet <Schema>Migrations()`, declared in the generated header
# "<schema>_migrations.hpp". Services migrate their own schema at start.
# Optional trailing pairs `<version> <file>` add shared migrations from elsewhere (the audit
# table of libs/audit) after the directory's, under the name "<version>_<file name>".
function(idp_embed_migrations target schema dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT sql_files)
  set(extra ${ARGN})
  set(out_cpp ${CMAKE_CURRENT_BINARY_DIR}/${schema}_migrations.cpp)
  set(out_hpp ${CMAKE_CURRENT_BINARY_DIR}/${schema}_migrations.hpp)
  set(body "")
  foreach(f ${sql_files})
    get_filename_component(name ${f} NAME_WE)
    string(REGEX MATCH "^[0-9]+" version ${name})
    file(READ ${f} sql)
    string(APPEND body "    {${version}, \"${name}\", R\"idpsql(${sql})idpsql\"},\n")
  endforeach()
  while(extra)
    list(POP_FRONT extra version f)
    get_filename_component(base ${f} NAME_WE)
    math(EXPR number "${version} + 0")
    file(READ ${f} sql)
    string(APPEND body "    {${number}, \"${version}_${base}\", R\"idpsql(${sql})idpsql\"},\n")
    list(APPEND sql_files ${f})
  endwhile()
  file(CONFIGURE OUTPUT ${out_hpp} CONTENT
"#pragma once
#include <idp/store/migrate.hpp>
namespace idp::${schema} {
/// The migrations of schema `${schema}`, in version order (generated from ${dir}).
const idp::store::MigrationSet& Migrations();
}
")
  file(CONFIGURE OUTPUT ${out_cpp} CONTENT
"#include \"${schema}_migrations.hpp\"
namespace idp::${schema} {
const idp::store::MigrationSet& Migrations() {
  static const idp::store::MigrationSet kSet{\"${schema}\", {
${body}  }};
  return kSet;
}
}
")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${sql_files})
  target_sources(${target} PRIVATE ${out_cpp})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
endfunction()

# idp_embed_files(<target> <header-name> <files...>): compiles the files into the target as
# `std::optional<std::string_view> idp::embedded::<header-name>(std::string_view file_name)`,
# declared in "<header-name>.hpp" (pages and static assets ship inside the binary).
function(idp_embed_files target name)
  set(out_cpp ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp)
  set(out_hpp ${CMAKE_CURRENT_BINARY_DIR}/${name}.hpp)
  set(body "")
  foreach(f ${ARGN})
    get_filename_component(fname ${f} NAME)
    file(READ ${f} content)
    string(APPEND body "    {\"${fname}\", R\"idpembed(${content})idpembed\"},\n")
  endforeach()
  file(CONFIGURE OUTPUT ${out_hpp} CONTENT
"#pragma once
#include <optional>
#include <string_view>
namespace idp::embedded {
/// The embedded file named `file_name`, or nullopt.
std::optional<std::string_view> ${name}(std::string_view file_name);
}
")
  file(CONFIGURE OUTPUT ${out_cpp} CONTENT
"#include \"${name}.hpp\"
#include <map>
namespace idp::embedded {
std::optional<std::string_view> ${name}(std::string_view file_name) {
  static const std::map<std::string_view, std::string_view> kFiles{
${body}  };
  auto it = kFiles.find(file_name);
  if (it == kFiles.end()) return std::nullopt;
  return it->second;
}
}
")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${ARGN})
  target_sources(${target} PRIVATE ${out_cpp})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
endfunction()

# idp_embed_text(<target> <name> <file>): compiles one text file into the target as
# `std::string_view idp::embedded::<name>()`, declared in "<name>.hpp". Unlike idp_embed_files
# the text is copied byte for byte (no ${} or @@ substitution), so it suits data such as word
# lists; the generated file is rewritten only when the text changes.
function(idp_embed_text target name file)
  set(out_cpp ${CMAKE_CURRENT_BINARY_DIR}/${name}.cpp)
  set(out_hpp ${CMAKE_CURRENT_BINARY_DIR}/${name}.hpp)
  file(READ ${file} content)
  string(FIND "${content}" ")idptext\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${file} contains the raw-string delimiter )idptext\"")
  endif()
  file(WRITE ${out_hpp}.tmp "#pragma once
#include <string_view>
namespace idp::embedded {
/// The text of ${file}.
std::string_view ${name}();
}
")
  file(WRITE ${out_cpp}.tmp "#include \"${name}.hpp\"
namespace idp::embedded {
std::string_view ${name}() {
  static constexpr char kText[] = R\"idptext(${content})idptext\";
  return {kText, sizeof(kText) - 1};
}
}
")
  file(COPY_FILE ${out_hpp}.tmp ${out_hpp} ONLY_IF_DIFFERENT)
  file(COPY_FILE ${out_cpp}.tmp ${out_cpp} ONLY_IF_DIFFERENT)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  # Far beyond the 64 KiB that C++ compilers must support, fine for GCC and Clang.
  set_source_files_properties(${out_cpp} PROPERTIES COMPILE_OPTIONS -Wno-overlength-strings)
  target_sources(${target} PRIVATE ${out_cpp})
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_BINARY_DIR})
endfunction()
