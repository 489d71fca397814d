# Helpers shared by the layer folders' CMakeLists.txt.

# berth_module_libraries(VAR PREFIX MODULE...): one static library
# <PREFIX><MODULE> per subfolder of the calling folder that has sources,
# each linking berth_sys and the modules listed before it (a module may use
# only those: static link order). VAR receives the libraries, last first.
function(berth_module_libraries var prefix)
  set(libs)
  foreach(module ${ARGN})
    file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${module}/*.cc)
    if(srcs)
      add_library(${prefix}${module} STATIC ${srcs})
      target_link_libraries(${prefix}${module} PUBLIC berth_sys ${libs})
      list(PREPEND libs ${prefix}${module})
    endif()
  endforeach()
  set(${var} ${libs} PARENT_SCOPE)
endfunction()

# BERTH_LIBARCHIVE: libarchive to link, statically where Debian ships the
# archive. Only its tar reader/writer and decompression filters are used
# (image layers, volume export/import); the shared library would also map
# libxml2 and ICU (for formats berth never reads) into berthd, ~3 MiB of
# idle memory. Its dependencies are pkg-config's list (hack/deps.sh installs
# their -dev packages); berthd and berth link with --as-needed, so only what
# is used stays in them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive)
find_library(LIBARCHIVE_STATIC NAMES libarchive.a)
if(LIBARCHIVE_STATIC)
  set(BERTH_LIBARCHIVE ${LIBARCHIVE_STATIC} ${LIBARCHIVE_STATIC_LIBRARIES})
  list(REMOVE_ITEM BERTH_LIBARCHIVE archive)
else()
  set(BERTH_LIBARCHIVE PkgConfig::LIBARCHIVE)
endif()
