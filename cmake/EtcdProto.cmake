# Generates C++ (messages and gRPC stubs) at build time from the .proto files
# that Debian's etcd 3.4 sources ship (golang-etcd-server-dev), with their
# imports from the gogo packages, into the static library dm_etcd_proto.
# Nothing generated is kept in the source tree.
find_program(DM_PROTOC protoc REQUIRED)
find_program(DM_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

set(DM_GOCODE /usr/share/gocode/src CACHE PATH
    "Root of the Go sources holding etcd's and gogo's .proto files")
set(dm_etcd_src "${DM_GOCODE}/go.etcd.io/etcd")
set(dm_gogo "${DM_GOCODE}/github.com/gogo/protobuf")
set(dm_googleapis "${DM_GOCODE}/github.com/gogo/googleapis")
foreach(required
        "${dm_etcd_src}/etcdserver/etcdserverpb/rpc.proto"
        "${dm_etcd_src}/etcdserver/api/v3election/v3electionpb/v3election.proto"
        "${dm_gogo}/gogoproto/gogo.proto"
        "${dm_googleapis}/google/api/annotations.proto")
  if(NOT EXISTS "${required}")
    message(FATAL_ERROR "${required} is missing: run scripts/setup "
                        "(golang-etcd-server-dev and the gogo packages)")
  endif()
endforeach()

# etcd's files import each other as "etcd/...": a link makes that root.
set(dm_proto_root "${CMAKE_BINARY_DIR}/etcd_proto_root")
file(MAKE_DIRECTORY "${dm_proto_root}")
file(CREATE_LINK "${dm_etcd_src}" "${dm_proto_root}/etcd" SYMBOLIC)
set(dm_proto_out "${CMAKE_BINARY_DIR}/etcd_proto")
file(MAKE_DIRECTORY "${dm_proto_out}")

set(dm_proto_messages
    gogoproto/gogo.proto
    google/api/http.proto
    google/api/annotations.proto
    etcd/mvcc/mvccpb/kv.proto
    etcd/auth/authpb/auth.proto
    etcd/etcdserver/etcdserverpb/rpc.proto
    etcd/etcdserver/api/v3election/v3electionpb/v3election.proto)
set(dm_proto_services
    etcd/etcdserver/etcdserverpb/rpc.proto
    etcd/etcdserver/api/v3election/v3electionpb/v3election.proto)
set(dm_proto_args -I "${dm_proto_root}" -I "${dm_gogo}" -I "${dm_googleapis}"
    -I /usr/include)

set(dm_proto_sources)
set(dm_proto_inputs)
foreach(proto ${dm_proto_messages})
  string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
  list(APPEND dm_proto_sources "${dm_proto_out}/${stem}.pb.cc")
endforeach()
foreach(proto ${dm_proto_services})
  string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
  list(APPEND dm_proto_sources "${dm_proto_out}/${stem}.grpc.pb.cc")
endforeach()
foreach(proto ${dm_proto_messages})
  if(proto MATCHES "^etcd/")
    string(REGEX REPLACE "^etcd/" "${dm_etcd_src}/" real "${proto}")
  elseif(proto MATCHES "^gogoproto/")
    set(real "${dm_gogo}/${proto}")
  else()
    set(real "${dm_googleapis}/${proto}")
  endif()
  list(APPEND dm_proto_inputs "${real}")
endforeach()

add_custom_command(
  OUTPUT ${dm_proto_sources}
  COMMAND ${DM_PROTOC} ${dm_proto_args} --cpp_out=${dm_proto_out}
          ${dm_proto_messages}
  COMMAND ${DM_PROTOC} ${dm_proto_args} --grpc_out=${dm_proto_out}
          --plugin=protoc-gen-grpc=${DM_GRPC_CPP_PLUGIN} ${dm_proto_services}
  DEPENDS ${dm_proto_inputs}
  COMMENT "Generating C++ from etcd's .proto files"
  VERBATIM)

add_library(dm_etcd_proto STATIC ${dm_proto_sources})
# Generated code: not held to our warnings.
target_compile_options(dm_etcd_proto PRIVATE -w)
target_include_directories(dm_etcd_proto PUBLIC "${dm_proto_out}")
target_link_libraries(dm_etcd_proto PUBLIC PkgConfig::GRPCPP)
